/**
 * DynamoDB BatchWriteItem over any number of put/delete requests: 25 per call (the service's
 * limit), unprocessed items retried with capped exponential backoff until none is left.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { OperationContext } from './handler.js';

export async function batchWriteAll(ctx: Pick<OperationContext, 'clients'>, requests: Record<string, unknown>[]): Promise<void> {
  const table = ctx.clients.config.tableName;
  for (let i = 0; i < requests.length; i += 25) {
    let batch: Record<string, unknown>[] | undefined = requests.slice(i, i + 25);
    for (let attempt = 0; batch?.length; attempt++) {
      const out = await ctx.clients.doc.send(new BatchWriteCommand({ RequestItems: { [table]: batch as never } }));
      batch = out.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
      if (batch?.length) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
    }
  }
}
