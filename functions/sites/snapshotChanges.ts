/**
 * Whether anything a site snapshot is built from may have changed since a build: what lets a
 * pull of an unchanged site answer from the stored revision (a few small reads) instead of
 * reading the whole site again.
 *
 * Every mutation puts an audit record in its own transaction (functions/shared/audit.ts), so
 * "an audit record newer than the build" covers every user change; the base table's day shards
 * are read with ConsistentRead (the site index GSI2 is only eventually consistent, and records
 * without a site, such as images', must count too). The few writes that carry no audit record
 * (artifact verification, agents' portal observations) note themselves here instead.
 *
 * A record's time is taken before its transaction commits, so the look-back starts
 * COMMIT_MARGIN_MS before the build began: a change committed during the build is never missed.
 * The build notes the change marks (audit records per shard, counted; change notes) already
 * visible in that look-back when its reads begin: those it has read. A later check finds a
 * change only where the marks differ, so the records of the writes just before a build (a bulk
 * import's last batches) do not make every pull of the next five seconds read the whole site
 * again. A look-back too large to count stores no marks, and then any mark counts, as before.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { AUDIT_SHARDS, auditDay, auditPartition } from '../shared/audit.js';

export const COMMIT_MARGIN_MS = 5_000;
/** A build older than this is redone whatever the records say: a bound on any writer this file does not know of. */
export const SNAPSHOT_MAX_AGE_MS = 10 * 60_000;
const ALL_SITES = '*';

const changeNoteKey = (scope: string) => ({ PK: 'SNAPINPUT', SK: scope });

/** A write outside any audited transaction changed what `site`'s snapshot (or, null, every site's) is built from. */
export async function noteSnapshotInputChanged(c: Clients, site: string | null): Promise<void> {
  await c.doc.send(new PutCommand({ TableName: c.config.tableName, Item: { ...changeNoteKey(site ?? ALL_SITES), entity: 'SnapshotInputChange', at: new Date().toISOString() } }));
}

/** Pages of one shard a count may read (1 MB each); a busier look-back falls back to "any mark counts". */
export const MAX_COUNT_PAGES = 16;

async function countSince(c: Clients, pk: string, fromIso: string): Promise<number | null> {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < MAX_COUNT_PAGES; page++) {
    const q = await c.doc.send(
      new QueryCommand({
        TableName: c.config.tableName,
        KeyConditionExpression: 'PK = :pk AND SK > :from',
        ExpressionAttributeValues: { ':pk': pk, ':from': fromIso },
        Select: 'COUNT',
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    count += q.Count ?? 0;
    start = q.LastEvaluatedKey;
    if (!start) return count;
  }
  return null;
}

/**
 * The change marks visible now in the look-back from `fromIso`: each audit shard's record count
 * and each change note's time; null when a shard has more than MAX_COUNT_PAGES pages. Audit
 * records are only ever added, so the same counts mean the same records: a bulk import's
 * thousands of records in the margin cost a count, not a list.
 */
async function marksSince(c: Clients, site: string, fromIso: string, now: number): Promise<string[] | null> {
  const pks = [...new Set([auditDay(fromIso), auditDay(new Date(now).toISOString())])].flatMap((day) => Array.from({ length: AUDIT_SHARDS }, (_, shard) => auditPartition(day, shard)));
  const counts = await Promise.all(pks.map((pk) => countSince(c, pk, fromIso)));
  if (counts.some((n) => n === null)) return null;
  const notes = await Promise.all(
    [site, ALL_SITES].map((scope) =>
      c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: changeNoteKey(scope), ConsistentRead: true })).then((o) => ({ scope, at: o.Item?.at as unknown })),
    ),
  );
  return [
    ...pks.flatMap((pk, i) => (counts[i] ? [`audit:${pk}=${counts[i]}`] : [])),
    ...notes.filter((n) => typeof n.at === 'string' && n.at > fromIso).map((n) => `note:${n.scope}:${String(n.at)}`),
  ];
}

const lookBackStart = (builtFrom: string) => Date.parse(builtFrom) - COMMIT_MARGIN_MS;

/**
 * Taken by a build as its reads begin (`builtFrom`): the marks it is about to read past, for
 * snapshotInputsChangedSince to ignore later (null: too many to list).
 */
export async function marksBeforeBuild(c: Clients, site: string, builtFrom: string, now = Date.now()): Promise<string[] | null> {
  return marksSince(c, site, new Date(lookBackStart(builtFrom)).toISOString(), now);
}

/**
 * True when a snapshot built from reads that began at `builtFrom` may be out of date: the
 * look-back's marks differ from those the build listed (`seen`; null: any mark counts).
 */
export async function snapshotInputsChangedSince(c: Clients, site: string, builtFrom: string, seen: string[] | null, now = Date.now()): Promise<boolean> {
  const from = lookBackStart(builtFrom);
  if (!Number.isFinite(from) || now - from > SNAPSHOT_MAX_AGE_MS) return true;
  const marks = await marksSince(c, site, new Date(from).toISOString(), now);
  if (marks === null) return true;
  if (seen === null) return marks.length > 0;
  const known = new Set(seen);
  return marks.length !== known.size || marks.some((m) => !known.has(m));
}
