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
 * COMMIT_MARGIN_MS before the build began: a change committed during the build is never missed,
 * at the price of rebuilding (to the same hash, so no new revision) for that long after it.
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

async function auditedSince(c: Clients, fromIso: string, day: string): Promise<boolean> {
  const hits = await Promise.all(
    Array.from({ length: AUDIT_SHARDS }, (_, shard) =>
      c.doc.send(
        new QueryCommand({
          TableName: c.config.tableName,
          KeyConditionExpression: 'PK = :pk AND SK > :from',
          ExpressionAttributeValues: { ':pk': auditPartition(day, shard), ':from': fromIso },
          ProjectionExpression: 'PK',
          ConsistentRead: true,
          Limit: 1,
        }),
      ),
    ),
  );
  return hits.some((h) => (h.Items?.length ?? 0) > 0);
}

async function notedSince(c: Clients, fromIso: string, scope: string): Promise<boolean> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: changeNoteKey(scope), ConsistentRead: true }));
  return typeof out.Item?.at === 'string' && out.Item.at > fromIso;
}

/** True when a snapshot built from reads that began at `builtFrom` may be out of date. */
export async function snapshotInputsChangedSince(c: Clients, site: string, builtFrom: string, now = Date.now()): Promise<boolean> {
  const from = Date.parse(builtFrom) - COMMIT_MARGIN_MS;
  if (!Number.isFinite(from) || now - from > SNAPSHOT_MAX_AGE_MS) return true;
  const fromIso = new Date(from).toISOString();
  const days = new Set([auditDay(fromIso), auditDay(new Date(now).toISOString())]);
  const checks = [...[...days].map((d) => auditedSince(c, fromIso, d)), notedSince(c, fromIso, site), notedSince(c, fromIso, ALL_SITES)];
  return (await Promise.all(checks)).some(Boolean);
}
