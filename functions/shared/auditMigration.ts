/**
 * Moves audit records written by earlier versions (one partition per month, `AUDIT#<yyyy-mm>`,
 * SK `<iso time>#<uuid>`) to the sharded keys of functions/shared/audit.ts, so auditLog finds
 * them by day, target and site. Idempotent and resumable: each record is put under its new key
 * (conditional on not being there yet) before its old item is deleted, so an interrupted run
 * loses nothing and a second run moves what is left. A record keeps its id, time, actor and
 * its (then truncated) before/after text as written.
 */
import { DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from './clients.js';
import { auditKeys } from './audit.js';

export const legacyAuditPartition = (month: string) => `AUDIT#${month}`;

/** The months an earlier version could have written to, newest first (it read 36 back). */
export function legacyAuditMonths(now: Date, count = 36): string[] {
  return Array.from({ length: count }, (_, i) => new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1)).toISOString().slice(0, 7));
}

export async function migrateLegacyAudit(c: Clients, months: string[] = legacyAuditMonths(new Date())): Promise<{ moved: number; alreadyMoved: number }> {
  const TableName = c.config.tableName;
  let moved = 0;
  let alreadyMoved = 0;
  for (const month of months) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await c.doc.send(
        new QueryCommand({ TableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': legacyAuditPartition(month) }, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const old of page.Items ?? []) {
        const { PK: _pk, SK: _sk, ...record } = old;
        const keys = auditKeys({ id: String(record.id), at: String(record.at), target: String(record.target), site: (record.site as string | null | undefined) ?? null });
        try {
          await c.doc.send(new PutCommand({ TableName, Item: { ...record, ...keys }, ConditionExpression: 'attribute_not_exists(PK)' }));
          moved++;
        } catch (err) {
          if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
          alreadyMoved++;
        }
        await c.doc.send(new DeleteCommand({ TableName, Key: { PK: old.PK, SK: old.SK } }));
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return { moved, alreadyMoved };
}
