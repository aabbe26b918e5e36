/**
 * The one idempotency mechanism of the cloud side (observations, discovery reports, power
 * completions), with the guarantees of Powertools' idempotency utility:
 *
 * 1. Before the work runs, a record INPROGRESS is put under the key, conditional on no live
 *    record: only one caller runs the work for a key at a time. The lock expires after
 *    `inProgressSeconds`, so a caller that died mid-way (Lambda timeout) does not hold the
 *    key for ever.
 * 2. The record keeps the sha256 of the canonical JSON of the payload. A reused key with a
 *    different payload is CONFLICT (IdempotencyKeyReusedError), never the old result.
 * 3. When the work finishes, the record becomes COMPLETED with the result; later calls with
 *    the same key and payload get that result without running the work again. If the work
 *    throws, the record is removed, so a retry runs it again.
 * 4. A caller that finds the key INPROGRESS waits (polling, up to `waitMs`) for the result,
 *    then gives up with IdempotencyInProgressError (retry later).
 *
 * Records expire (DynamoDB TTL) after `expiresAfterSeconds`; a key reused after that runs again.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SkybootError } from '../../schema/errors.js';
import type { Clients } from './clients.js';
import { TTL_ATTRIBUTE } from './table.js';
import { canonicalJson } from './canonicalJson.js';

export type IdempotencyStatus = 'INPROGRESS' | 'COMPLETED';

export interface IdempotencyOptions {
  /** What the key belongs to (`observation#<site>`, `discovery#<site>`, `powerComplete`): keys of two scopes never meet. */
  scope: string;
  key: string;
  /** What the key promises; compared by hash on every reuse. */
  payload: unknown;
  /** How long the work may take before another caller may take the key over. */
  inProgressSeconds?: number;
  /** How long the result is kept and replayed. */
  expiresAfterSeconds: number;
  /** How long a second caller waits for a running first one. */
  waitMs?: number;
  /** The field to name in errors. */
  field?: string;
}

export interface IdempotentOutcome<R> {
  result: R;
  /** True when the result is a stored one: the work did not run for this call. */
  replayed: boolean;
}

/** The key was used before with another payload. */
export class IdempotencyKeyReusedError extends SkybootError {
  constructor(scope: string, key: string, field?: string) {
    super('CONFLICT', `${field ?? 'idempotencyKey'}: ${key} was already used for a different payload (${scope}); use a new key for new content`, field);
  }
}

/** Another call holds the key and has not finished within the wait. */
export class IdempotencyInProgressError extends SkybootError {
  constructor(scope: string, key: string, field?: string) {
    super('CONFLICT', `${field ?? 'idempotencyKey'}: ${key} is being applied by another call (${scope}); retry to get its result`, field);
  }
}

const DEFAULT_IN_PROGRESS_SECONDS = 60;
const DEFAULT_WAIT_MS = 10_000;
const POLL_MS = 100;

export const idempotencyKey = (scope: string, key: string) => ({ PK: `IDEM#${scope}#${key}`, SK: 'IDEM' });

/** sha256 of the payload's canonical JSON (keys sorted, undefined dropped). */
export function payloadHash(payload: unknown): string {
  return createHash('sha256').update(canonicalJson(payload)).digest('hex');
}

const isConditionFailure = (err: unknown) => (err as { name?: string }).name === 'ConditionalCheckFailedException';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function idempotent<R>(c: Clients, o: IdempotencyOptions, work: () => Promise<R>): Promise<IdempotentOutcome<R>> {
  const TableName = c.config.tableName;
  const Key = idempotencyKey(o.scope, o.key);
  const hash = payloadHash(o.payload);
  const inProgressMs = (o.inProgressSeconds ?? DEFAULT_IN_PROGRESS_SECONDS) * 1000;
  const deadline = Date.now() + (o.waitMs ?? DEFAULT_WAIT_MS);
  for (;;) {
    const now = Date.now();
    const token = randomUUID();
    try {
      await c.doc.send(
        new PutCommand({
          TableName,
          Item: {
            ...Key,
            entity: 'Idempotency',
            scope: o.scope,
            idempotencyKey: o.key,
            status: 'INPROGRESS' satisfies IdempotencyStatus,
            payloadHash: hash,
            token,
            inProgressExpiry: now + inProgressMs,
            [TTL_ATTRIBUTE]: Math.floor(now / 1000) + o.expiresAfterSeconds,
          },
          // A live record holds the key; an expired lock or an expired record (TTL deletes
          // lazily) does not.
          ConditionExpression: 'attribute_not_exists(PK) OR (#s = :inprogress AND inProgressExpiry < :now) OR #ttl < :nowSeconds',
          ExpressionAttributeNames: { '#s': 'status', '#ttl': TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':inprogress': 'INPROGRESS', ':now': now, ':nowSeconds': Math.floor(now / 1000) },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const seen = (await c.doc.send(new GetCommand({ TableName, Key, ConsistentRead: true }))).Item;
      if (!seen) continue;
      if (seen.payloadHash !== hash) throw new IdempotencyKeyReusedError(o.scope, o.key, o.field);
      if (seen.status === 'COMPLETED') return { result: seen.result as R, replayed: true };
      if (Date.now() >= deadline) throw new IdempotencyInProgressError(o.scope, o.key, o.field);
      await sleep(POLL_MS);
      continue;
    }
    let result: R;
    try {
      result = await work();
    } catch (err) {
      // Free the key so a retry runs the work again (only if the lock is still ours).
      await c.doc
        .send(new DeleteCommand({ TableName, Key, ConditionExpression: '#t = :t', ExpressionAttributeNames: { '#t': 'token' }, ExpressionAttributeValues: { ':t': token } }))
        .catch((e: unknown) => {
          if (!isConditionFailure(e)) throw e;
        });
      throw err;
    }
    await c.doc.send(
      new UpdateCommand({
        TableName,
        Key,
        UpdateExpression: 'SET #s = :completed, #r = :r, completedAt = :at REMOVE inProgressExpiry',
        ConditionExpression: '#t = :t',
        ExpressionAttributeNames: { '#s': 'status', '#r': 'result', '#t': 'token' },
        ExpressionAttributeValues: { ':completed': 'COMPLETED' satisfies IdempotencyStatus, ':r': result ?? null, ':at': new Date().toISOString(), ':t': token },
      }),
    ).catch((err: unknown) => {
      // Our lock expired and another call took the key over: its record will hold its result;
      // ours stands for this call.
      if (!isConditionFailure(err)) throw err;
    });
    return { result, replayed: false };
  }
}
