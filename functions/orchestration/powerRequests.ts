/**
 * Power requests: the cloud records what should happen, the site's agent claims and runs it
 * against its BMCs (which only it can reach), and reports per-node results. Status moves
 * PENDING → RUNNING → DONE by conditional updates, so two agents never claim one request and
 * a retried completion cannot overwrite a different one.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from '../../schema/errors.js';
import { normaliseXName } from '../../schema/xname.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { siteScope } from '../shared/identity.js';
import { componentRecord } from '../inventory/lookup.js';
import { unknownSiteError, unknownSites } from '../sites/registry.js';
import { validateSiteName } from '../sites/siteName.js';
import { commandKey, siteCommandsPk } from './keys.js';

export const POWER_ACTIONS = ['ON', 'OFF', 'SOFT_OFF', 'RESET', 'CYCLE', 'STATUS', 'PXE_ONCE'] as const;
export type PowerAction = (typeof POWER_ACTIONS)[number];
export type CommandStatus = 'PENDING' | 'RUNNING' | 'DONE';

export interface PowerResult {
  xname: string;
  ok: boolean;
  powerState?: string | null;
  bootOverride?: string | null;
  error?: string | null;
}

export interface PowerRequest {
  id: string;
  site: string;
  action: PowerAction;
  xnames: string[];
  status: CommandStatus;
  requestedBy: string;
  createdAt: string;
  claimedAt: string | null;
  completedAt: string | null;
  results: PowerResult[];
}

const MAX_TARGETS = 1000;

function toRequest(item: Record<string, unknown>): PowerRequest {
  return {
    id: String(item.id),
    site: String(item.site),
    action: item.action as PowerAction,
    xnames: item.xnames as string[],
    status: item.status as CommandStatus,
    requestedBy: String(item.requestedBy),
    createdAt: String(item.createdAt),
    claimedAt: (item.claimedAt as string | undefined) ?? null,
    completedAt: (item.completedAt as string | undefined) ?? null,
    results: (item.results as PowerResult[] | undefined) ?? [],
  };
}

/** The site a request addresses: the named one (it must exist), else the deployment's default. */
async function requestedSite(ctx: OperationContext, raw: string | null | undefined): Promise<string> {
  if (raw === undefined || raw === null) return ctx.clients.config.defaultSite;
  const site = validateSiteName(raw, 'site');
  if ((await unknownSites(ctx.clients, [site])).length) throw unknownSiteError('site', site);
  return site;
}

export async function requestPower(ctx: OperationContext, args: { xnames: string[]; action: string; site?: string | null }): Promise<PowerRequest[]> {
  if (!POWER_ACTIONS.includes(args.action as PowerAction)) throw new BadUserInputError('action', `"${args.action}" is not one of ${POWER_ACTIONS.join(', ')}`);
  if (!Array.isArray(args.xnames) || args.xnames.length === 0) throw new BadUserInputError('xnames', 'name at least one node');
  if (args.xnames.length > MAX_TARGETS) throw new BadUserInputError('xnames', `at most ${MAX_TARGETS} nodes per request`);
  const xnames = [...new Set(args.xnames.map((x, i) => normaliseXName(x, `xnames[${i}]`)))];
  const targetSite = await requestedSite(ctx, args.site);
  const found = await Promise.all(xnames.map(async (x) => [x, await componentRecord(ctx.clients, targetSite, x)] as const));
  const missing = found.filter(([, f]) => !f).map(([x]) => x);
  if (missing.length) throw new NotFoundError('component', `${missing.join(', ')} in site ${targetSite}`, 'xnames');
  const bySite = new Map<string, string[]>();
  for (const [x, f] of found) bySite.set(f!.site, [...(bySite.get(f!.site) ?? []), x]);
  const now = new Date().toISOString();
  const requests: PowerRequest[] = [];
  for (const [site, targets] of bySite) {
    const id = randomUUID();
    const req: PowerRequest = { id, site, action: args.action as PowerAction, xnames: targets.sort(), status: 'PENDING', requestedBy: ctx.identity.subject, createdAt: now, claimedAt: null, completedAt: null, results: [] };
    await ctx.clients.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: ctx.clients.config.tableName, Item: { ...commandKey(id), entity: 'PowerRequest', ...req, GSI1PK: siteCommandsPk(site, 'PENDING'), GSI1SK: `${now}#${id}` }, ConditionExpression: 'attribute_not_exists(PK)' } },
          auditPut(ctx, { operation: 'requestPower', target: `power:${id}`, after: { site, action: req.action, xnames: req.xnames } }),
        ],
      }),
    );
    requests.push(req);
  }
  return requests;
}

export async function powerRequest(ctx: OperationContext, args: { id: string }): Promise<PowerRequest | null> {
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: commandKey(args.id) }));
  if (!out.Item) return null;
  const scope = siteScope(ctx.identity);
  if (scope !== null && out.Item.site !== scope) return null;
  return toRequest(out.Item);
}

function agentSite(ctx: OperationContext): string {
  const site = siteScope(ctx.identity);
  if (!site) throw new ForbiddenError('only a site agent claims power requests');
  return site;
}

/**
 * A claim is a lease: if the agent's claim answer was lost (the link dropped after the update),
 * the same agent gets its RUNNING request back once the lease has run out, instead of the
 * request staying RUNNING for ever. Its journal then says whether it already ran it.
 */
export function claimLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.SKYBOOT_CLAIM_LEASE_SECONDS ?? 120) * 1000;
}

async function claim(ctx: OperationContext, site: string, id: string, from: 'PENDING' | 'RUNNING', now: string, leaseBefore: string): Promise<PowerRequest | null> {
  try {
    const upd = await ctx.clients.doc.send(
      new UpdateCommand({
        TableName: ctx.clients.config.tableName,
        Key: commandKey(id),
        UpdateExpression: 'SET #s = :running, claimedAt = :now, claimedBy = :who, GSI1PK = :pk',
        ConditionExpression: from === 'PENDING' ? '#s = :from' : '#s = :from AND claimedBy = :who AND claimedAt <= :lease',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':running': 'RUNNING',
          ':from': from,
          ':now': now,
          ':who': ctx.identity.subject,
          ':pk': siteCommandsPk(site, 'RUNNING'),
          ...(from === 'RUNNING' ? { ':lease': leaseBefore } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRequest(upd.Attributes!);
  } catch (err) {
    // Another agent of the site claimed it first, or the lease is still running: not ours now.
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    return null;
  }
}

export async function claimPowerRequests(ctx: OperationContext, args: { max?: number | null }): Promise<PowerRequest[]> {
  const site = agentSite(ctx);
  const max = args.max ?? 10;
  if (!Number.isInteger(max) || max < 1 || max > 100) throw new BadUserInputError('max', 'must be between 1 and 100');
  const now = new Date().toISOString();
  const leaseBefore = new Date(Date.now() - claimLeaseMs()).toISOString();
  const list = (status: 'PENDING' | 'RUNNING') =>
    ctx.clients.doc.send(
      new QueryCommand({
        TableName: ctx.clients.config.tableName,
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :p',
        ExpressionAttributeValues: { ':p': siteCommandsPk(site, status) },
        Limit: max,
      }),
    );
  const claimed: PowerRequest[] = [];
  const expired = (await list('RUNNING')).Items ?? [];
  for (const item of expired) {
    if (claimed.length >= max) break;
    if (item.claimedBy !== ctx.identity.subject || String(item.claimedAt) > leaseBefore) continue;
    const again = await claim(ctx, site, String(item.id), 'RUNNING', now, leaseBefore);
    if (again) claimed.push(again);
  }
  for (const item of (await list('PENDING')).Items ?? []) {
    if (claimed.length >= max) break;
    const fresh = await claim(ctx, site, String(item.id), 'PENDING', now, leaseBefore);
    if (fresh) claimed.push(fresh);
  }
  return claimed;
}

export async function completePowerRequest(ctx: OperationContext, args: { id: string; results: PowerResult[] }): Promise<PowerRequest> {
  const site = agentSite(ctx);
  const current = await powerRequest(ctx, { id: args.id });
  if (!current) throw new NotFoundError('power request', args.id, 'id');
  // One canonical shape, so a retried completion compares equal to the stored one.
  const results: PowerResult[] = args.results.map((r, i) => ({
    xname: normaliseXName(r.xname, `results[${i}].xname`),
    ok: Boolean(r.ok),
    powerState: r.powerState ?? null,
    bootOverride: r.bootOverride ?? null,
    error: r.error ?? null,
  }));
  const unknown = results.filter((r) => !current.xnames.includes(r.xname)).map((r) => r.xname);
  if (unknown.length) throw new BadUserInputError('results', `${unknown.join(', ')} not targets of request ${args.id}`);
  if (current.status === 'DONE') {
    const canonical = (list: PowerResult[]) => JSON.stringify(list.map((r) => [r.xname, r.ok, r.powerState ?? null, r.bootOverride ?? null, r.error ?? null]));
    if (canonical(current.results) === canonical(results)) return current;
    throw new ConflictError(`power request ${args.id} is already complete with other results`, 'id');
  }
  const now = new Date().toISOString();
  try {
    const upd = await ctx.clients.doc.send(
      new UpdateCommand({
        TableName: ctx.clients.config.tableName,
        Key: commandKey(args.id),
        UpdateExpression: 'SET #s = :done, completedAt = :now, results = :r, GSI1PK = :pk',
        ConditionExpression: '#s = :running AND site = :site',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':done': 'DONE', ':running': 'RUNNING', ':now': now, ':r': results, ':pk': siteCommandsPk(site, 'DONE'), ':site': site },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return toRequest(upd.Attributes!);
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') {
      throw new ConflictError(`power request ${args.id} is ${current.status}, not RUNNING: claim it first`, 'id');
    }
    throw err;
  }
}
