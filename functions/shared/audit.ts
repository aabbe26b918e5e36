/**
 * Audit records: who did what to which target, with the target's full state before and after.
 * A mutation puts its record in the same transaction as its change, so there is never a change
 * without one; every mutation's transaction stays within DynamoDB's limits with it (at most 100
 * items, 4 MB: a bulk upsert packs at most 100 items, its components' records included).
 *
 * Keys are spread so no partition is hot (a deployment-wide month partition with time-ordered
 * sort keys would take every write and defeat split-for-heat):
 *
 * - table:  PK `AUDIT#<yyyy-mm-dd>#<shard 0..AUDIT_SHARDS-1>`, SK `<iso time>#<id>[#<part>]`;
 *           the shard comes from the record's random id, so writes spread evenly.
 * - GSI1:   `AUDIT#TARGET#<target>` / SK: one target's history in time order.
 * - GSI2:   `AUDIT#SITE#<site>#<yyyy-mm-dd>#<shard 0..AUDIT_SITE_SHARDS-1>` / SK: one site's
 *           records of a day (a record without a site has no GSI2 entry).
 *
 * Readers merge a day's shards by sort key (functions/inventory/auditLog.ts). A record whose
 * before/after would not fit one item (DynamoDB's 400 KB) is split into parts that share its
 * id and carry `part`/`parts`; the JSON text of before/after is cut across them in order.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { OperationContext } from './handler.js';

export interface AuditInput {
  operation: string;
  target: string;
  before?: unknown;
  after?: unknown;
  /** The site the target belongs to; default: the caller's (an agent's) site. */
  site?: string | null;
}

export const AUDIT_SHARDS = 8;
export const AUDIT_SITE_SHARDS = 4;
/** Text of before + after per item: with the other attributes, well below 400 KB. */
export const AUDIT_PART_BYTES = 350 * 1024;

export const auditDay = (at: string) => at.slice(0, 10);
export const auditPartition = (day: string, shard: number) => `AUDIT#${day}#${shard}`;
export const auditTargetPk = (target: string) => `AUDIT#TARGET#${target}`;
export const auditSitePk = (site: string, day: string, shard: number) => `AUDIT#SITE#${site}#${day}#${shard}`;

function shardOf(id: string, shards: number): number {
  return createHash('sha256').update(id).digest().readUInt32BE(0) % shards;
}

function json(value: unknown): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** Cuts `text` into pieces of at most `bytes` UTF-8 bytes, never inside a character. */
function cut(text: string, bytes: number): string[] {
  const out: string[] = [];
  let cur = '';
  let size = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (size + n > bytes) {
      out.push(cur);
      cur = '';
      size = 0;
    }
    cur += ch;
    size += n;
  }
  out.push(cur);
  return out;
}

/** The table and index keys of one audit item (a record, or one part of it: `sk` differs). */
export function auditKeys(r: { id: string; at: string; target: string; site: string | null }, sk = `${r.at}#${r.id}`): Record<string, string> {
  const day = auditDay(r.at);
  return {
    PK: auditPartition(day, shardOf(r.id, AUDIT_SHARDS)),
    SK: sk,
    GSI1PK: auditTargetPk(r.target),
    GSI1SK: sk,
    ...(r.site ? { GSI2PK: auditSitePk(r.site, day, shardOf(r.id, AUDIT_SITE_SHARDS)), GSI2SK: sk } : {}),
  };
}

type AuditPut = { Put: { TableName: string; Item: Record<string, unknown> } };

/** The Puts that record `input`: one, or its parts when before/after exceed one item. */
export function auditPuts(ctx: OperationContext, input: AuditInput, now = new Date(), partBytes = AUDIT_PART_BYTES): AuditPut[] {
  const at = now.toISOString();
  const id = randomUUID();
  const site = input.site ?? ctx.identity.site ?? null;
  const before = json(input.before);
  const after = json(input.after);
  const base = {
    entity: 'Audit',
    id,
    at,
    actor: ctx.identity.subject,
    roles: ctx.identity.roles,
    site,
    requestId: ctx.requestId,
    operation: input.operation,
    target: input.target,
  };
  const keysFor = (sk: string) => auditKeys({ id, at, target: input.target, site }, sk);
  const TableName = ctx.clients.config.tableName;
  if (Buffer.byteLength(before ?? '') + Buffer.byteLength(after ?? '') <= partBytes) {
    return [{ Put: { TableName, Item: { ...keysFor(`${at}#${id}`), ...base, before, after } } }];
  }
  // before's pieces first, then after's: concatenated in part order they give both texts back.
  const pieces = [...(before === undefined ? [] : cut(before, partBytes).map((t) => ({ before: t }))), ...(after === undefined ? [] : cut(after, partBytes).map((t) => ({ after: t })))];
  return pieces.map((piece, i) => ({
    Put: { TableName, Item: { ...keysFor(`${at}#${id}#${String(i).padStart(3, '0')}`), ...base, part: i, parts: pieces.length, ...piece } },
  }));
}

/** The Put that records `input`; add it to the mutation's TransactWriteItems. */
export function auditPut(ctx: OperationContext, input: AuditInput, now = new Date()): AuditPut {
  const puts = auditPuts(ctx, input, now);
  if (puts.length !== 1) throw new Error(`audit of ${input.operation} on ${input.target} needs ${puts.length} items: add auditPuts(...) to the transaction instead`);
  return puts[0]!;
}
