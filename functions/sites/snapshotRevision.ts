/**
 * The per-site snapshot revision: {snapshotRevision, snapshotHash} on the site item. A pull whose
 * content hash differs from the stored one bumps the revision with a conditional update on the
 * revision it read, so two concurrent pulls never both claim the same number for different
 * content (no lost update); the loser re-reads and adopts or bumps again.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../schema/errors.js';
import type { Clients } from '../shared/clients.js';
import { siteKey } from './registry.js';

const MAX_ATTEMPTS = 8;

export async function siteItem(c: Clients, site: string): Promise<Record<string, unknown> | undefined> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: siteKey(site), ConsistentRead: true }));
  return out.Item;
}

export async function recordRevision(c: Clients, site: string, hash: string, first?: Record<string, unknown>): Promise<number> {
  let item = first;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!item) item = await siteItem(c, site);
    if (!item) throw new NotFoundError('site', site, 'site');
    const current = Number(item.snapshotRevision ?? 0);
    if (current > 0 && item.snapshotHash === hash) return current;
    try {
      await c.doc.send(
        new UpdateCommand({
          TableName: c.config.tableName,
          Key: siteKey(site),
          UpdateExpression: 'SET snapshotRevision = :next, snapshotHash = :h, snapshotChangedAt = :at',
          ConditionExpression: current === 0 ? 'attribute_exists(PK) AND attribute_not_exists(snapshotRevision)' : 'snapshotRevision = :cur',
          ExpressionAttributeValues: { ':next': current + 1, ':h': hash, ':at': new Date().toISOString(), ...(current === 0 ? {} : { ':cur': current }) },
        }),
      );
      return current + 1;
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      item = undefined; // someone else moved it: read again and decide again
    }
  }
  throw new Error(`site ${site}: snapshot revision still contended after ${MAX_ATTEMPTS} attempts`);
}
