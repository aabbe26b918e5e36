/**
 * Audit records: who did what to which target, with a before/after summary. A mutation puts
 * its record in the same transaction as its change, so there is never a change without one.
 * Records are partitioned by month (PK AUDIT#yyyy-mm) and sorted by time within it.
 */
import { randomUUID } from 'node:crypto';
import type { OperationContext } from './handler.js';

export interface AuditInput {
  operation: string;
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditRecord extends AuditInput {
  id: string;
  at: string;
  actor: string;
  roles: string[];
  site: string | null;
  requestId: string;
}

/** Summaries are capped so one record stays far below DynamoDB's 400 KB item limit. */
const SUMMARY_LIMIT = 4096;

function summary(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const json = JSON.stringify(value);
  return json.length > SUMMARY_LIMIT ? `${json.slice(0, SUMMARY_LIMIT)}…` : json;
}

export function auditPartition(at: string): string {
  return `AUDIT#${at.slice(0, 7)}`;
}

/** The Put that records `input`; add it to the mutation's TransactWriteItems. */
export function auditPut(ctx: OperationContext, input: AuditInput, now = new Date()) {
  const at = now.toISOString();
  const id = randomUUID();
  return {
    Put: {
      TableName: ctx.clients.config.tableName,
      Item: {
        PK: auditPartition(at),
        SK: `${at}#${id}`,
        entity: 'Audit',
        id,
        at,
        actor: ctx.identity.subject,
        roles: ctx.identity.roles,
        site: ctx.identity.site,
        requestId: ctx.requestId,
        operation: input.operation,
        target: input.target,
        before: summary(input.before),
        after: summary(input.after),
      },
    },
  };
}
