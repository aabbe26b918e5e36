/**
 * Relay pages over an ordered sequence of DynamoDB Query partitions (one per site, or per
 * audit month), optionally hydrating index/membership items into the items they point at and
 * dropping those a filter refuses. The cursor names the partition and the last returned raw
 * item's key, so a page that ends mid-partition resumes exactly after it: no gaps, no repeats.
 * Every read is a Query; nothing here scans.
 */
import { QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError } from '../../schema/errors.js';
import { decodeCursor, encodeCursor, pageSize, type Page } from '../shared/pagination.js';
import { INDEXES, KEY, type IndexName } from '../shared/table.js';
import type { Clients } from '../shared/clients.js';

type Item = Record<string, unknown>;

export interface PartitionQuery {
  /** Identifies the partition in cursors; partitions are given in cursor order. */
  tag: string;
  input: Omit<QueryCommandInput, 'ExclusiveStartKey' | 'Limit' | 'TableName'>;
}

export interface PagingOptions<T> {
  first?: number | null;
  after?: string | null;
  /** Resolves raw items (e.g. group members) to the items returned; undefined drops one. */
  hydrate?: (items: Item[]) => Promise<(Item | undefined)[]>;
  /** In-memory filter on the (hydrated) item. */
  keep?: (item: Item) => boolean;
  /** The queries carry a FilterExpression: read wide, as for an in-memory filter. */
  serverFiltered?: boolean;
  toNode: (item: Item) => T;
  /** How partition tags order, for a cursor whose partition has since disappeared. */
  descending?: boolean;
}

function keyOf(item: Item, index: IndexName | undefined): Item {
  const key: Item = { [KEY.pk]: item[KEY.pk], [KEY.sk]: item[KEY.sk] };
  if (index) {
    key[INDEXES[index].pk] = item[INDEXES[index].pk];
    key[INDEXES[index].sk] = item[INDEXES[index].sk];
  }
  return key;
}

interface Resume {
  t: string;
  k: Item;
}

function isKey(v: unknown): v is Item {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function resumePoint(after: string | null | undefined): Resume | undefined {
  const raw = decodeCursor(after);
  if (!raw) return undefined;
  if (typeof raw.t !== 'string' || !isKey(raw.k)) throw new BadUserInputError('after', 'is not a cursor this list issued');
  return { t: raw.t, k: raw.k };
}

export async function pageAcross<T>(c: Clients, partitions: PartitionQuery[], o: PagingOptions<T>): Promise<Page<T>> {
  const want = pageSize(o.first);
  const resume = resumePoint(o.after);
  let start = 0;
  if (resume) {
    const exact = partitions.findIndex((p) => p.tag === resume.t);
    start = exact >= 0 ? exact : partitions.findIndex((p) => (o.descending ? p.tag < resume.t : p.tag > resume.t));
    if (start < 0) start = partitions.length;
  }
  const filtered = Boolean(o.hydrate || o.keep || o.serverFiltered);
  const out: { raw: Item; item: Item; tag: string; index: IndexName | undefined }[] = [];
  for (let i = start; i < partitions.length && out.length <= want; i++) {
    const p = partitions[i]!;
    const index = p.input.IndexName as IndexName | undefined;
    let startKey: Item | undefined = resume && i === start && p.tag === resume.t ? resume.k : undefined;
    for (;;) {
      const need = want + 1 - out.length;
      // A filter may drop most items: read wider so a selective filter is not one round trip per item.
      const limit = filtered ? Math.min(1000, Math.max(need * 2, 100)) : need;
      const res = await c.doc.send(new QueryCommand({ ...p.input, TableName: c.config.tableName, ExclusiveStartKey: startKey, Limit: limit }));
      const raws = res.Items ?? [];
      const items = o.hydrate ? await o.hydrate(raws) : raws;
      for (let j = 0; j < raws.length && out.length <= want; j++) {
        const item = items[j];
        if (item && (!o.keep || o.keep(item))) out.push({ raw: raws[j]!, item, tag: p.tag, index });
      }
      if (out.length > want || !res.LastEvaluatedKey) break;
      startKey = res.LastEvaluatedKey;
    }
  }
  const page = out.slice(0, want);
  const edges = page.map((e) => ({ cursor: encodeCursor({ t: e.tag, k: keyOf(e.raw, e.index) }), node: o.toNode(e.item) }));
  return { edges, pageInfo: { hasNextPage: out.length > want, endCursor: edges.length ? edges[edges.length - 1]!.cursor : null } };
}
