/**
 * applyStaged (BOS v2's applystaged): each named node's staged state becomes its desired state and
 * the node rolls, in the session that staged it, under that session's policy. The answer says per
 * node what happened: `succeeded` (now rolling), `failed` (its session is gone or no longer open),
 * `ignored` (nothing staged). The staged mark is removed conditionally on the session it names, so
 * a second call finds nothing staged and ignores the nodes: calling it twice is harmless.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { normaliseXName } from '../../schema/xname.js';
import type { OperationContext } from '../shared/handler.js';
import { siteFor } from '../boot/configurations.js';
import { auditPut } from '../shared/audit.js';
import { bootStates, setDesiredBoot } from './bootState.js';
import { bootStateKey, sessionNodeKey } from './keys.js';
import { transition, toSessionNode } from './sessionNodes.js';
import { settleSession, storedSession } from './sessions.js';

export async function applyStaged(ctx: OperationContext, args: { xnames: string[]; site?: string | null }) {
  const site = siteFor(ctx, args.site);
  const xnames = [...new Set(args.xnames.map((x, i) => normaliseXName(x, `xnames[${i}]`)))];
  const states = await bootStates(ctx.clients, site, xnames, true);
  const result = { succeeded: [] as string[], failed: [] as string[], ignored: [] as string[] };
  const touched = new Set<string>();
  for (const x of xnames) {
    const sessionId = states.get(x)!.stagedSessionId;
    if (!sessionId) {
      result.ignored.push(x);
      continue;
    }
    const session = await storedSession(ctx.clients, sessionId);
    const rec = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: sessionNodeKey(sessionId, x), ConsistentRead: true }));
    const node = rec.Item ? toSessionNode(rec.Item) : null;
    if (!session || !node || !['RUNNING', 'PAUSED'].includes(session.status) || node.phase !== 'STAGED') {
      result.failed.push(x);
      continue;
    }
    try {
      await ctx.clients.doc.send(
        new UpdateCommand({
          TableName: ctx.clients.config.tableName,
          Key: bootStateKey(site, x),
          UpdateExpression: 'REMOVE stagedSessionId, stagedImageId',
          ConditionExpression: 'stagedSessionId = :s',
          ExpressionAttributeValues: { ':s': sessionId },
        }),
      );
    } catch (err) {
      if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
      result.ignored.push(x); // a concurrent applyStaged took it
      continue;
    }
    if (node.target) await setDesiredBoot(ctx, site, x, node.target);
    if (await transition(ctx.clients, { sessionId, xname: x, from: 'STAGED', to: 'PENDING' })) {
      result.succeeded.push(x);
      touched.add(sessionId);
    } else result.failed.push(x);
  }
  for (const id of touched) await settleSession(ctx.clients, id);
  if (result.succeeded.length) {
    await ctx.clients.doc.send(new PutCommand({ TableName: ctx.clients.config.tableName, Item: auditPut(ctx, { operation: 'applyStaged', target: `site:${site}`, site, after: result }).Put.Item }));
  }
  return result;
}
