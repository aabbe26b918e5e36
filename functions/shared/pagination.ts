/**
 * Relay-style pages over DynamoDB Queries. Cursors are opaque (base64url JSON of the last
 * item's key) and a page is filled across several Query calls when a filter drops items,
 * so `first` is honoured and no item is skipped or repeated between pages.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError } from '../../schema/errors.js';
import type { Clients } from './clients.js';
import { INDEXES, KEY, type IndexName } from './table.js';
import { DEFAULT_PAGE, MAX_PAGE } from '../../schema/pageSize.js';

export { DEFAULT_PAGE, MAX_PAGE };

export interface Page<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

type Key = Record<string, unknown>;

export function encodeCursor(key: Key): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, field = 'after'): Key | undefined {
  if (cursor === null || cursor === undefined || cursor === '') return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Key;
  } catch {
    // fall through to the error below
  }
  throw new BadUserInputError(field, 'is not a cursor this API issued');
}

export function pageSize(first: number | null | undefined, field = 'first'): number {
  if (first === null || first === undefined) return DEFAULT_PAGE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE) throw new BadUserInputError(field, `must be between 1 and ${MAX_PAGE}`);
  return first;
}

function keyOf(item: Key, index: IndexName | undefined): Key {
  const key: Key = { [KEY.pk]: item[KEY.pk], [KEY.sk]: item[KEY.sk] };
  if (index) {
    const i = INDEXES[index];
    key[i.pk] = item[i.pk];
    key[i.sk] = item[i.sk];
  }
  return key;
}

export interface PageQuery {
  /** The Query without ExclusiveStartKey/Limit; IndexName must be one of ours or absent. */
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit' | 'TableName'>;
  first?: number | null;
  after?: string | null;
  /** Consumed read capacity is added here when given (benchmarks read it). */
  capacity?: { units: number };
}

export async function queryPage<T>(c: Clients, q: PageQuery, toNode: (item: Key) => T): Promise<Page<T>> {
  const want = pageSize(q.first);
  const index = q.input.IndexName as IndexName | undefined;
  let start = decodeCursor(q.after);
  const items: Key[] = [];
  while (items.length <= want) {
    const out = await c.doc.send(
      new QueryCommand({
        ...q.input,
        TableName: c.config.tableName,
        ExclusiveStartKey: start,
        Limit: want + 1 - items.length,
        ...(q.capacity ? { ReturnConsumedCapacity: 'TOTAL' } : {}),
      }),
    );
    if (q.capacity) q.capacity.units += out.ConsumedCapacity?.CapacityUnits ?? 0;
    items.push(...(out.Items ?? []));
    if (!out.LastEvaluatedKey) break;
    start = out.LastEvaluatedKey;
  }
  const pageItems = items.slice(0, want);
  const edges = pageItems.map((item) => ({ cursor: encodeCursor(keyOf(item, index)), node: toNode(item) }));
  return {
    edges,
    pageInfo: {
      hasNextPage: items.length > want,
      endCursor: edges.length ? edges[edges.length - 1]!.cursor : null,
    },
  };
}

/** Every item of a Query, following LastEvaluatedKey (for internal reads that need the whole set, never for a user's page). */
export async function queryAll(c: Clients, input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'TableName'>): Promise<Key[]> {
  const out: Key[] = [];
  let start: Key | undefined;
  do {
    const page = await c.doc.send(new QueryCommand({ ...input, TableName: c.config.tableName, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
