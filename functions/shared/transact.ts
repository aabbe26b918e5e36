/**
 * Runs one all-or-nothing DynamoDB transaction and turns its cancellation reasons into the
 * API's errors. Each step may say what its failed condition means (a MAC already claimed is
 * CONFLICT naming the MAC; a vanished component is NOT_FOUND). TransactionConflict (another
 * transaction touching the same item at the same moment) is retried with jittered backoff,
 * rebuilding the steps so a re-read sees the winner's write.
 */
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { ConflictError, SkybootError } from '../../schema/errors.js';
import type { OperationContext } from './handler.js';

export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export interface Step {
  item: TransactItem;
  /**
   * What a failed condition on this step means. Absent: a generic CONFLICT. `stored` is the item
   * that failed the condition, when the step asked for it (ReturnValuesOnConditionCheckFailure
   * ALL_OLD), so the error can name who holds it.
   */
  onConditionFailed?: (stored?: Record<string, unknown>) => SkybootError;
  /** A failed condition here is a lost optimistic race (re-read and try again), not an answer. */
  retryOnConditionFailed?: boolean;
}

export const MAX_TRANSACTION_ITEMS = 100;
export const MAX_ATTEMPTS = 8;

interface CancellationReason {
  Code?: string;
  /** The failing item in DynamoDB's wire form ({ xname: { S: "…" } }): errors are not unmarshalled. */
  Item?: Record<string, { S?: string; N?: string } | undefined>;
}

/** String and number attributes of a cancellation's item, enough for an error message. */
function plainItem(item: CancellationReason['Item']): Record<string, unknown> | undefined {
  if (!item) return undefined;
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v?.S ?? (v?.N !== undefined ? Number(v.N) : undefined)]));
}

function cancellationReasons(err: unknown): CancellationReason[] | undefined {
  if (err && typeof err === 'object' && (err as { name?: string }).name === 'TransactionCanceledException') {
    return ((err as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []) as CancellationReason[];
  }
  return undefined;
}

/**
 * Errors DynamoDB documents as "retry the request": throttling, a transaction still in progress,
 * and InternalServerError (which DynamoDB Local also answers when its one lock is held too long).
 * The SDK has already retried each a few times when it reaches us.
 */
export function isTransientWriteError(err: unknown): boolean {
  const n = (err as { name?: string })?.name;
  return n === 'TransactionInProgressException' || n === 'ProvisionedThroughputExceededException' || n === 'ThrottlingException' || n === 'InternalServerError';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Jittered exponential backoff before attempt `attempt + 1`. */
export const backoff = (attempt: number) => sleep(Math.random() * 10 * 2 ** attempt);

/**
 * Sends the steps `build` returns (rebuilt per attempt). Returns the steps that were written;
 * an empty step list is a no-op.
 */
export async function transact(ctx: OperationContext, build: () => Promise<Step[]> | Step[]): Promise<Step[]> {
  for (let attempt = 0; ; attempt++) {
    const steps = await build();
    if (steps.length === 0) return steps;
    try {
      await ctx.clients.doc.send(new TransactWriteCommand({ TransactItems: steps.map((s) => s.item) }));
      return steps;
    } catch (err) {
      const reasons = cancellationReasons(err);
      const last = attempt + 1 >= MAX_ATTEMPTS;
      if (!reasons) {
        if (isTransientWriteError(err) && !last) {
          await backoff(attempt);
          continue;
        }
        throw err;
      }
      const failedIndex = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (failedIndex >= 0) {
        const step = steps[failedIndex];
        if (step?.retryOnConditionFailed && !last) {
          await backoff(attempt);
          continue;
        }
        throw step?.onConditionFailed?.(plainItem(reasons[failedIndex]!.Item)) ?? new ConflictError('a concurrent change won; read again and retry');
      }
      if (!last) {
        await backoff(attempt);
        continue;
      }
      throw new ConflictError(`the change kept colliding with concurrent changes (${reasons.map((r) => r.Code).join(', ')}); retry`);
    }
  }
}
