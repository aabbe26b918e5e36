/**
 * siteSnapshot: the calling agent's site snapshot as references, not content. The answer names
 * the revision and its content hash, presigned URLs of the stored content and of the deltas
 * from the caller's revision, and the artifacts' presigned GETs; its size does not grow with
 * the site's nodes. A revision is built once (snapshotBuild.ts), off the request path by the
 * snapshot builder (snapshotBuilder.ts), which the first pull to find the stored one possibly
 * out of date (snapshotChanges.ts) asks for; pulls wait a bounded time for it instead of reading
 * the site themselves.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ForbiddenError, NotFoundError, UnavailableError } from '../../schema/errors.js';
import type { SnapshotArtifact } from '../../schema/siteSnapshot.js';
import type { SiteSnapshotAnswer, SnapshotDeltaRef } from '../../schema/snapshotDelta.js';
import type { Clients } from '../shared/clients.js';
import type { OperationContext } from '../shared/handler.js';
import { s3KeyFor } from '../images/keys.js';
import { requestSnapshotBuild } from './snapshotBuilder.js';
import { snapshotInputsChangedSince } from './snapshotChanges.js';
import { contentObjectKey, deltaObjectKey, presignObject } from './snapshotObjects.js';
import { siteItem, type RevisionEntry, type SiteSnapshotState } from './snapshotRevision.js';

/** Long enough for a slow site link to fetch a large rootfs; the agent re-pulls before it expires. */
export const SNAPSHOT_URL_TTL_SECONDS = 6 * 3600;
const BUILD_POLL_MS = 200;
/**
 * How long a pull waits for the build it asked for: inside the sites Lambda's 25 s, with room to
 * answer. A slower build (a site of 100,000 nodes) answers a later pull.
 */
const BUILD_WAIT_MS = 15_000;

async function presignArtifacts(c: Clients, artifacts: SnapshotArtifact[]): Promise<SnapshotArtifact[]> {
  const expires = new Date(Date.now() + SNAPSHOT_URL_TTL_SECONDS * 1000).toISOString();
  return Promise.all(
    artifacts.map(async (a) =>
      a.status !== 'READY'
        ? { ...a, url: null, urlExpiresAt: null }
        : {
            ...a,
            url: await getSignedUrl(c.s3, new GetObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(a.sha256) }), { expiresIn: SNAPSHOT_URL_TTL_SECONDS }),
            urlExpiresAt: expires,
          },
    ),
  );
}

/**
 * The site item with a revision no older than what was committed before `pullStarted`; after
 * BUILD_WAIT_MS, the stored revision as it is (the agent keeps serving it and pulls again), or,
 * before a site's first build, UnavailableError.
 */
async function currentSnapshot(c: Clients, site: string, first: SiteSnapshotState, pullStarted: string): Promise<SiteSnapshotState> {
  const deadline = Date.now() + BUILD_WAIT_MS;
  let item = first;
  let asked = false;
  for (;;) {
    const builtFrom = item.snapshotBuiltFrom;
    // A build whose reads began after this pull did saw everything committed before it.
    if (item.snapshotRevision && builtFrom && (builtFrom >= pullStarted || !(await snapshotInputsChangedSince(c, site, builtFrom, item.snapshotBuiltSeen)))) return item;
    const failed = item.snapshotBuildError;
    if (failed && failed.at >= pullStarted) throw new Error(`site ${site}: snapshot build failed: ${failed.message}`);
    if (!asked) {
      await requestSnapshotBuild(c, site);
      asked = true;
    }
    if (Date.now() > deadline) {
      if (item.snapshotRevision) return item;
      throw new UnavailableError(`site ${site}: its first snapshot is still being built; pull again in a few seconds`);
    }
    await sleep(BUILD_POLL_MS);
    const again = await siteItem(c, site);
    if (!again) throw new NotFoundError('site', site, 'site');
    item = again;
  }
}

/** The deltas from `since` to the newest revision, or null when the history does not reach back or a link is missing. */
async function deltaChain(c: Clients, site: string, history: RevisionEntry[], since: number): Promise<SnapshotDeltaRef[] | null> {
  const from = history.findIndex((h) => h.revision === since);
  if (from < 0) return null;
  const refs: SnapshotDeltaRef[] = [];
  for (let j = from + 1; j < history.length; j++) {
    const prev = history[j - 1]!;
    const e = history[j]!;
    if (e.deltaFrom !== prev.hash || e.deltaBytes === null || e.revision !== prev.revision + 1) return null;
    refs.push({ fromRevision: prev.revision, toRevision: e.revision, url: await presignObject(c, deltaObjectKey(site, prev.hash, e.hash)), bytes: e.deltaBytes });
  }
  return refs;
}

export async function siteSnapshot(args: { sinceRevision?: number | null }, ctx: OperationContext): Promise<SiteSnapshotAnswer> {
  const site = ctx.identity.site;
  if (!site) throw new ForbiddenError('siteSnapshot is for site agents (the token names no site)');
  const c = ctx.clients;
  const pullStarted = new Date().toISOString();
  const first = await siteItem(c, site);
  if (!first) throw new NotFoundError('site', site, 'site');
  const item = await currentSnapshot(c, site, first, pullStarted);
  const revision = item.snapshotRevision;
  const hash = String(item.snapshotHash);
  const generatedAt = new Date().toISOString();
  const since = args.sinceRevision ?? null;
  if (since === revision) return { site, revision, unchanged: true, contentHash: hash, generatedAt, artifacts: null, content: null, deltas: null };
  const history = item.snapshotHistory;
  return {
    site,
    revision,
    unchanged: false,
    contentHash: hash,
    generatedAt,
    artifacts: await presignArtifacts(c, item.snapshotArtifacts),
    content: { url: await presignObject(c, contentObjectKey(site, hash)), bytes: history.find((h) => h.revision === revision)?.bytes ?? 0 },
    deltas: since === null ? null : await deltaChain(c, site, history, since),
  };
}
