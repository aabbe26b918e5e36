/**
 * The per-site snapshot revision, on the site item: {snapshotRevision, snapshotHash} plus what a
 * pull answers from without reading the site again — when the current build's reads began
 * (snapshotBuiltFrom), the content's artifacts (small: one per kernel/initrd/rootfs the site
 * boots) and the recent revisions with their object sizes (snapshotHistory, so a pull finds the
 * delta chain from its revision). A build whose content hash differs bumps the revision with a
 * conditional update on the revision it read, so two concurrent builds never both claim the
 * same number for different content (no lost update); the loser re-reads and adopts or bumps
 * again. A build lease (snapshotBuildLease) makes concurrent pulls wait for one build.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../schema/errors.js';
import type { SnapshotArtifact } from '../../schema/siteSnapshot.js';
import type { Clients } from '../shared/clients.js';
import { siteKey } from './registry.js';
import { int, list, nullable, object, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

const MAX_ATTEMPTS = 8;
/** Revisions a pull can catch up from by deltas; an agent further behind fetches the whole content. */
export const SNAPSHOT_HISTORY = 16;

export interface RevisionEntry {
  revision: number;
  hash: string;
  /** Compressed size of the whole content. */
  bytes: number;
  /** The delta from `deltaFrom` (the previous revision's hash) and its size, when one was written. */
  deltaFrom: string | null;
  deltaBytes: number | null;
}

export interface BuiltRevision {
  hash: string;
  bytes: number;
  deltaFrom: string | null;
  deltaBytes: number | null;
  artifacts: SnapshotArtifact[];
  /** When the build's reads began (ISO). */
  builtFrom: string;
  /** The change marks already visible when its reads began (snapshotChanges.ts); null: too many to list. */
  seen: string[] | null;
}

/** What the snapshot code reads of a Site item; the snapshot attributes are absent until the first build. */
export interface SiteSnapshotState {
  domain: string | null;
  /** 0 before the first build. */
  snapshotRevision: number;
  snapshotHash: string | null;
  snapshotBuiltFrom: string | null;
  /** The marks that build read past (snapshotChanges.ts); null when unlisted or written by an earlier version. */
  snapshotBuiltSeen: string[] | null;
  /** The last failed build (cleared by the next good one): what waiting pulls report. */
  snapshotBuildError: { at: string; message: string } | null;
  snapshotArtifacts: SnapshotArtifact[];
  snapshotHistory: RevisionEntry[];
}

const siteSnapshotDecoder: Decoder<SiteSnapshotState> = object({
  domain: nullable(str),
  snapshotRevision: withDefault(int, 0),
  snapshotHash: nullable(str),
  snapshotBuiltFrom: nullable(str),
  snapshotBuiltSeen: withDefault(nullable(list(str)), null),
  snapshotBuildError: withDefault(nullable(object({ at: str, message: str })), null),
  snapshotArtifacts: withDefault(list(object({ sha256: str, size: int, type: str, status: str, url: nullable(str), urlExpiresAt: nullable(str) })), []),
  snapshotHistory: withDefault(list(object({ revision: int, hash: str, bytes: int, deltaFrom: nullable(str), deltaBytes: nullable(int) })), []),
});

/** The stored Site item's snapshot state; StoredItemError if it is malformed. */
export const decodeSiteSnapshot = storedDecoder('Site', siteSnapshotDecoder);

export async function siteItem(c: Clients, site: string): Promise<SiteSnapshotState | undefined> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: siteKey(site), ConsistentRead: true }));
  return out.Item ? decodeSiteSnapshot(out.Item) : undefined;
}

const isConditionFailure = (err: unknown) => (err as Error).name === 'ConditionalCheckFailedException';

/** Records a build: the same content only moves snapshotBuiltFrom forward; new content takes the next revision. */
export async function recordRevision(c: Clients, site: string, built: BuiltRevision, first?: SiteSnapshotState): Promise<number> {
  let item = first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!item) item = await siteItem(c, site);
    if (!item) throw new NotFoundError('site', site, 'site');
    const current = item.snapshotRevision;
    const same = current > 0 && item.snapshotHash === built.hash;
    const history = item.snapshotHistory;
    const previousHash = item.snapshotHash;
    const entry: RevisionEntry = {
      revision: current + 1,
      hash: built.hash,
      bytes: built.bytes,
      // A delta is only good from the revision it was diffed against.
      deltaFrom: built.deltaFrom !== null && built.deltaFrom === previousHash ? built.deltaFrom : null,
      deltaBytes: built.deltaFrom !== null && built.deltaFrom === previousHash ? built.deltaBytes : null,
    };
    if (same && item.snapshotBuiltFrom !== null && item.snapshotBuiltFrom >= built.builtFrom) return current;
    const cur = current === 0 ? 'attribute_exists(PK) AND attribute_not_exists(snapshotRevision)' : 'snapshotRevision = :cur';
    try {
      await c.doc.send(
        same
          ? new UpdateCommand({
              TableName: c.config.tableName,
              Key: siteKey(site),
              UpdateExpression: 'SET snapshotBuiltFrom = :from, snapshotBuiltSeen = :seen REMOVE snapshotBuildError',
              // Never move the mark back behind a later build of the same content.
              ConditionExpression: 'snapshotRevision = :cur AND snapshotHash = :h AND (attribute_not_exists(snapshotBuiltFrom) OR snapshotBuiltFrom < :from)',
              ExpressionAttributeValues: { ':from': built.builtFrom, ':seen': built.seen, ':cur': current, ':h': built.hash },
            })
          : new UpdateCommand({
              TableName: c.config.tableName,
              Key: siteKey(site),
              UpdateExpression: 'SET snapshotRevision = :next, snapshotHash = :h, snapshotChangedAt = :at, snapshotBuiltFrom = :from, snapshotBuiltSeen = :seen, snapshotArtifacts = :arts, snapshotHistory = :hist REMOVE snapshotBuildError',
              ConditionExpression: cur,
              ExpressionAttributeValues: {
                ':next': current + 1,
                ':h': built.hash,
                ':at': new Date().toISOString(),
                ':from': built.builtFrom,
                ':seen': built.seen,
                ':arts': built.artifacts,
                ':hist': [...history, entry].slice(-SNAPSHOT_HISTORY),
                ...(current === 0 ? {} : { ':cur': current }),
              },
            }),
      );
      return same ? current : current + 1;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      item = undefined; // someone else moved it: read again and decide again
    }
  }
  throw new Error(`site ${site}: snapshot revision still contended after ${MAX_ATTEMPTS} attempts`);
}

/** Claims the site's build for `ms`; false while another pull holds an unexpired claim. */
export async function claimSnapshotBuild(c: Clients, site: string, ms: number): Promise<boolean> {
  const now = Date.now();
  try {
    await c.doc.send(
      new UpdateCommand({
        TableName: c.config.tableName,
        Key: siteKey(site),
        UpdateExpression: 'SET snapshotBuildLease = :until',
        ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(snapshotBuildLease) OR snapshotBuildLease < :now)',
        ExpressionAttributeValues: { ':until': now + ms, ':now': now },
      }),
    );
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

/** Notes a failed build on the site item, for the pulls waiting on it. */
export async function recordBuildError(c: Clients, site: string, err: Error): Promise<void> {
  await c.doc.send(
    new UpdateCommand({
      TableName: c.config.tableName,
      Key: siteKey(site),
      UpdateExpression: 'SET snapshotBuildError = :e',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':e': { at: new Date().toISOString(), message: err.message.slice(0, 2000) } },
    }),
  );
}

export async function releaseSnapshotBuild(c: Clients, site: string): Promise<void> {
  await c.doc.send(new UpdateCommand({ TableName: c.config.tableName, Key: siteKey(site), UpdateExpression: 'REMOVE snapshotBuildLease' }));
}
