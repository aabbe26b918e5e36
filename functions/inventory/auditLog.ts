/**
 * auditLog: records are written by every domain through functions/shared/audit.ts into
 * monthly partitions (AUDIT#yyyy-mm, sorted by time). Reading walks months newest first,
 * each a Query in descending order, back to a fixed horizon.
 */
import type { OperationContext } from '../shared/handler.js';
import { auditPartition } from '../shared/audit.js';
import type { Page } from '../shared/pagination.js';
import { pageAcross } from './paging.js';

/** How far back the log is read: older partitions are kept but not listed. */
export const AUDIT_HORIZON_MONTHS = 36;

type Item = Record<string, unknown>;

export function auditMonths(now: Date, count = AUDIT_HORIZON_MONTHS): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - i, 1));
    out.push(auditPartition(d.toISOString()));
  }
  return out;
}

function recordJson(item: Item) {
  return {
    id: item.id as string,
    at: item.at as string,
    actor: item.actor as string,
    roles: (item.roles as string[] | undefined) ?? [],
    site: (item.site as string | null | undefined) ?? null,
    requestId: item.requestId as string,
    operation: item.operation as string,
    target: item.target as string,
    before: (item.before as string | undefined) ?? null,
    after: (item.after as string | undefined) ?? null,
  };
}

export type AuditRecordJson = ReturnType<typeof recordJson>;

export function auditLog(ctx: OperationContext, args: { first?: unknown; after?: unknown }): Promise<Page<AuditRecordJson>> {
  return pageAcross(
    ctx.clients,
    auditMonths(new Date()).map((pk) => ({ tag: pk, input: { KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ScanIndexForward: false } })),
    { first: args.first as number | undefined, after: args.after as string | undefined, toNode: recordJson, descending: true },
  );
}
