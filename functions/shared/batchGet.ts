/** BatchGetItem in chunks of 100, retrying unprocessed keys, results in request order. */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from './clients.js';
import { mapLimit } from './concurrency.js';

type Key = { PK: string; SK: string };
type Item = Record<string, unknown>;

const CHUNK = 100;
const PARALLEL = 8;

/** `consistent` for reads a conditional write will be based on: a stale version would only fail and retry. */
export async function batchGet(c: Clients, keys: Key[], consistent = false): Promise<(Item | undefined)[]> {
  const found = new Map<string, Item>();
  const id = (k: { PK: unknown; SK: unknown }) => `${String(k.PK)}\u0000${String(k.SK)}`;
  const unique = [...new Map(keys.map((k) => [id(k), k])).values()];
  const chunks: Key[][] = [];
  for (let i = 0; i < unique.length; i += CHUNK) chunks.push(unique.slice(i, i + CHUNK));
  const run = async (chunk: Key[]) => {
    let pending: Item[] = chunk;
    for (let attempt = 0; pending.length; attempt++) {
      const res = await c.doc.send(new BatchGetCommand({ RequestItems: { [c.config.tableName]: { Keys: pending, ConsistentRead: consistent } } }));
      for (const item of res.Responses?.[c.config.tableName] ?? []) found.set(id(item as Key), item);
      pending = (res.UnprocessedKeys?.[c.config.tableName]?.Keys ?? []) as Item[];
      if (pending.length) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
    }
  };
  await mapLimit(chunks, PARALLEL, run);
  return keys.map((k) => found.get(id(k)));
}
