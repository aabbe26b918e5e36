/**
 * auditLog: the records every domain writes through functions/shared/audit.ts, newest first,
 * for one target (GSI1), one site (GSI2, a day's shards merged) or the whole deployment (the
 * table, a day's shards merged), between `from` and `to`.
 *
 * A day's shards are merged by sort key (`<iso time>#<id>`): each shard is read newest first
 * down to what the page still needs, so the union's newest items are exactly the day's. The
 * cursor holds the day and the last sort key returned; every read is a Query.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { AUDIT_SHARDS, AUDIT_SITE_SHARDS, auditDay, auditPartition, auditSitePk, auditTargetPk } from '../shared/audit.js';
import { decodeCursor, encodeCursor, pageSize, type Page } from '../shared/pagination.js';
import type { Clients } from '../shared/clients.js';
import { int, list, nullable, object, storedDecoder, str, withDefault, type Decoded } from '../shared/storedItem.js';

/** Default window of a site or deployment listing, and the widest one a request may ask. */
export const AUDIT_DEFAULT_DAYS = 31;
export const AUDIT_MAX_DAYS = 92;
const DAY_MS = 24 * 3600 * 1000;
const DAYS_AT_ONCE = 8;

type Item = Record<string, unknown>;

// before/after are JSON text (auditPut); part/parts are set when one change spans several records (auditPuts).
const auditDecoder = object({
  id: str,
  at: str,
  actor: str,
  roles: withDefault(list(str), []),
  site: nullable(str),
  requestId: str,
  operation: str,
  target: str,
  before: nullable(str),
  after: nullable(str),
  part: nullable(int),
  parts: nullable(int),
});

/** The stored Audit item as the API returns it; StoredItemError if it is malformed. */
export const recordJson = storedDecoder('Audit', auditDecoder);

export type AuditRecordJson = Decoded<typeof auditDecoder>;

interface Source {
  /** The partition key attribute and sort key attribute of the shard's table or index. */
  pk: string;
  sk: string;
  index?: string;
  value: string;
}

interface Window {
  lo: string;
  hi: string;
}

/** Newest first, at most `limit` items of one shard with lo <= SK <= hi, following 1 MB pages. */
async function readShard(c: Clients, s: Source, w: Window, limit: number): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const input: QueryCommandInput = {
      TableName: c.config.tableName,
      ...(s.index ? { IndexName: s.index } : {}),
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :lo AND :hi',
      ExpressionAttributeNames: { '#pk': s.pk, '#sk': s.sk },
      ExpressionAttributeValues: { ':pk': s.value, ':lo': w.lo, ':hi': w.hi },
      ScanIndexForward: false,
      Limit: limit - out.length,
      ...(start ? { ExclusiveStartKey: start } : {}),
    };
    const res = await c.doc.send(new QueryCommand(input));
    out.push(...(res.Items ?? []));
    start = res.LastEvaluatedKey;
  } while (start && out.length < limit);
  return out;
}

function isoArg(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  const d = new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new BadUserInputError(field, `"${String(v)}" is not a date-time`);
  return d.toISOString();
}

export interface AuditLogArgs {
  first?: unknown;
  after?: unknown;
  target?: unknown;
  site?: unknown;
  from?: unknown;
  to?: unknown;
}

export async function auditLog(ctx: OperationContext, args: AuditLogArgs): Promise<Page<AuditRecordJson>> {
  const want = pageSize(args.first as number | undefined);
  const target = args.target === undefined || args.target === null ? undefined : String(args.target);
  const site = args.site === undefined || args.site === null ? undefined : String(args.site);
  if (target !== undefined && site !== undefined) throw new BadUserInputError('site', 'give target or site, not both (a target belongs to one site)');
  const to = isoArg(args.to, 'to') ?? new Date().toISOString();
  const fromGiven = isoArg(args.from, 'from');
  const from = fromGiven ?? (target !== undefined ? '0000' : new Date(Date.parse(to) - AUDIT_DEFAULT_DAYS * DAY_MS).toISOString());
  if (from > to) throw new BadUserInputError('from', `${from} is after to (${to})`);
  if (target === undefined && Date.parse(to) - Date.parse(from) > AUDIT_MAX_DAYS * DAY_MS) {
    throw new BadUserInputError('from', `the window ${from} .. ${to} is longer than ${AUDIT_MAX_DAYS} days; list a target, or page through shorter windows`);
  }

  const cursor = decodeCursor(args.after as string | undefined);
  if (cursor && (typeof cursor.d !== 'string' || typeof cursor.s !== 'string')) throw new BadUserInputError('after', 'is not a cursor this list issued');
  // One "day" holding the whole history for a target; the days of the window otherwise.
  const days: string[] = [];
  if (target !== undefined) days.push('all');
  else for (let t = Date.parse(to); auditDay(new Date(t).toISOString()) >= auditDay(from); t -= DAY_MS) days.push(auditDay(new Date(t).toISOString()));
  const sourcesOf = (day: string): Source[] => {
    if (target !== undefined) return [{ pk: 'GSI1PK', sk: 'GSI1SK', index: 'GSI1', value: auditTargetPk(target) }];
    if (site !== undefined) return Array.from({ length: AUDIT_SITE_SHARDS }, (_, n) => ({ pk: 'GSI2PK', sk: 'GSI2SK', index: 'GSI2', value: auditSitePk(site, day, n) }));
    return Array.from({ length: AUDIT_SHARDS }, (_, n) => ({ pk: 'PK', sk: 'SK', value: auditPartition(day, n) }));
  };

  const out: { item: Item; day: string; sk: string }[] = [];
  const startDay = Math.max(0, cursor ? days.indexOf(cursor.d as string) : 0);
  const readDay = async (day: string, need: number) => {
    const resumeHere = cursor && cursor.d === day ? (cursor.s as string) : undefined;
    // Sort keys start with the ISO time; '\uffff' puts every key of `to`'s instant inside.
    const w: Window = { lo: from, hi: resumeHere ?? `${to}\uffff` };
    const shards = await Promise.all(sourcesOf(day).map(async (s) => (await readShard(ctx.clients, s, w, need + 1)).map((item) => ({ item, day, sk: item[s.sk] as string }))));
    return shards
      .flat()
      .filter((e) => e.sk !== resumeHere)
      .sort((a, b) => (a.sk < b.sk ? 1 : a.sk > b.sk ? -1 : 0));
  };
  // Days are read in growing batches (1, 2, 4 … DAYS_AT_ONCE; their shards in parallel), each
  // for what the page still needed before the batch: a busy day fills a page in one round
  // trip, a sparse log costs a few round trips rather than one per day.
  for (let i = startDay, n = 1; i < days.length && out.length <= want; i += n, n = Math.min(n * 2, DAYS_AT_ONCE)) {
    const need = want + 1 - out.length;
    const batch = await Promise.all(days.slice(i, i + n).map((day) => readDay(day, need)));
    for (const merged of batch) {
      if (out.length > want) break;
      out.push(...merged.slice(0, want + 1 - out.length));
    }
  }
  const page = out.slice(0, want);
  const edges = page.map((e) => ({ cursor: encodeCursor({ d: e.day, s: e.sk }), node: recordJson(e.item) }));
  return { edges, pageInfo: { hasNextPage: out.length > want, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null } };
}
