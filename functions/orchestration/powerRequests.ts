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
import { idempotent } from '../shared/idempotency.js';
import { logger } from '../shared/logger.js';
import type { OperationContext } from '../shared/handler.js';
import { assertAllowedAt, canRead, siteScope } from '../shared/identity.js';
import { componentRecord } from '../inventory/lookup.js';
import { unknownSiteError, unknownSites } from '../sites/registry.js';
import { validateSiteName } from '../sites/siteName.js';
import { commandKey, siteAllCommandsPk, siteCommandsPk } from './keys.js';
import { queryPage, type Page } from '../shared/pagination.js';
import { siteFor } from '../boot/configurations.js';
import { bool, list, nullable, object, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

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
/** Completions are replayable for longer than any agent retries one. */
const COMPLETION_TTL_SECONDS = 30 * 24 * 3600;

const COMMAND_STATUSES = ['PENDING', 'RUNNING', 'DONE'] as const satisfies readonly CommandStatus[];

const requestDecoder: Decoder<PowerRequest> = object({
  id: str,
  site: str,
  action: oneOf(POWER_ACTIONS),
  xnames: list(str),
  status: oneOf(COMMAND_STATUSES),
  requestedBy: str,
  createdAt: str,
  claimedAt: nullable(str),
  completedAt: nullable(str),
  results: withDefault(list(object({ xname: str, ok: bool, powerState: nullable(str), bootOverride: nullable(str), error: nullable(str) })), []),
});

/** The stored power request item; StoredItemError if it is malformed. */
export const toRequest = storedDecoder('PowerRequest', requestDecoder);

/** The site a request addresses: the named one (it must exist), else the deployment's default; the caller must be its operator. */
async function requestedSite(ctx: OperationContext, raw: string | null | undefined): Promise<string> {
  const site = raw === undefined || raw === null ? ctx.clients.config.defaultSite : validateSiteName(raw, 'site');
  assertAllowedAt(ctx.identity, ctx.access, site, 'site');
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
          { Put: { TableName: ctx.clients.config.tableName, Item: { ...commandKey(id), entity: 'PowerRequest', ...req, GSI1PK: siteCommandsPk(site, 'PENDING'), GSI1SK: `${now}#${id}`, GSI2PK: siteAllCommandsPk(site), GSI2SK: `${now}#${id}` }, ConditionExpression: 'attribute_not_exists(PK)' } },
          auditPut(ctx, { operation: 'requestPower', target: `power:${id}`, site, after: { site, action: req.action, xnames: req.xnames } }),
        ],
      }),
    );
    requests.push(req);
  }
  return requests;
}

export async function powerRequest(ctx: OperationContext, args: { id: string }): Promise<PowerRequest | null> {
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: commandKey(args.id) }));
  if (!out.Item || !canRead(ctx.identity, out.Item.site)) return null;
  return toRequest(out.Item);
}

/**
 * A site's requests newest first: by status through GSI1 (every request has it, its key follows
 * the status), else through GSI2, which only requests written since this listing existed carry.
 */
export async function powerRequests(ctx: OperationContext, args: { site?: string | null; status?: string | null; first?: number | null; after?: string | null }): Promise<Page<PowerRequest>> {
  const site = siteFor(ctx, args.site);
  if (args.status !== null && args.status !== undefined && !COMMAND_STATUSES.includes(args.status as CommandStatus)) throw new BadUserInputError('status', `"${args.status}" is not one of ${COMMAND_STATUSES.join(', ')}`);
  const [pk, value] = args.status ? (['GSI1PK', siteCommandsPk(site, args.status)] as const) : (['GSI2PK', siteAllCommandsPk(site)] as const);
  const input = { IndexName: pk === 'GSI1PK' ? 'GSI1' : 'GSI2', KeyConditionExpression: `${pk} = :pk`, ExpressionAttributeValues: { ':pk': value }, ScanIndexForward: false };
  return queryPage(ctx.clients, { input, first: args.first, after: args.after }, toRequest);
}

function agentSite(ctx: OperationContext): string {
  const site = siteScope(ctx.identity);
  if (!site) throw new ForbiddenError('only a site agent claims power requests');
  return site;
}

/**
 * A claim is a lease: once it has run out without a completion, any agent of the site takes the
 * RUNNING request over (the claimant's claim answer was lost, or the claimant died), instead of
 * the request staying RUNNING for ever. The claimant's own journal then says whether it already
 * ran it; a late completion from the former claimant is refused, naming the new one.
 */
export function claimLeaseMs(env: NodeJS.ProcessEnv = process.env): number {
  return Number(env.SKYBOOT_CLAIM_LEASE_SECONDS ?? 120) * 1000;
}

async function claim(ctx: OperationContext, site: string, id: string, from: 'PENDING' | 'RUNNING', now: string, leaseBefore: string, seenClaimedAt?: string): Promise<PowerRequest | null> {
  try {
    const upd = await ctx.clients.doc.send(
      new UpdateCommand({
        TableName: ctx.clients.config.tableName,
        Key: commandKey(id),
        UpdateExpression: 'SET #s = :running, claimedAt = :now, claimedBy = :who, GSI1PK = :pk',
        // A takeover is conditional on the claimedAt it saw, so two agents taking over one expired
        // claim at once cannot both win.
        ConditionExpression: from === 'PENDING' ? '#s = :from' : '#s = :from AND claimedAt = :seen AND claimedAt <= :lease',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':running': 'RUNNING',
          ':from': from,
          ':now': now,
          ':who': ctx.identity.subject,
          ':pk': siteCommandsPk(site, 'RUNNING'),
          ...(from === 'RUNNING' ? { ':lease': leaseBefore, ':seen': seenClaimedAt } : {}),
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
    if (String(item.claimedAt) > leaseBefore) continue;
    const again = await claim(ctx, site, String(item.id), 'RUNNING', now, leaseBefore, String(item.claimedAt));
    if (again) {
      if (item.claimedBy !== ctx.identity.subject) logger.warn('expired power request claim taken over by another agent of the site', { id: again.id, from: String(item.claimedBy), to: ctx.identity.subject, claimedAt: String(item.claimedAt) });
      claimed.push(again);
    }
  }
  for (const item of (await list('PENDING')).Items ?? []) {
    if (claimed.length >= max) break;
    const fresh = await claim(ctx, site, String(item.id), 'PENDING', now, leaseBefore);
    if (fresh) claimed.push(fresh);
  }
  return claimed;
}

/** The stored request with the agent that holds (or last held) its claim. */
async function storedRequest(ctx: OperationContext, id: string): Promise<{ request: PowerRequest; claimedBy: string | null } | null> {
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: commandKey(id), ConsistentRead: true }));
  if (!out.Item) return null;
  const scope = siteScope(ctx.identity);
  if (scope !== null && out.Item.site !== scope) return null;
  return { request: toRequest(out.Item), claimedBy: typeof out.Item.claimedBy === 'string' ? out.Item.claimedBy : null };
}

/** Only the claimant completes: after a takeover, the former claimant's late results must not land. */
function notClaimant(id: string, claimedBy: string | null, who: string, status: CommandStatus): ConflictError {
  return new ConflictError(`power request ${id} is ${status === 'DONE' ? 'completed' : 'claimed'} by agent "${claimedBy ?? 'none'}", not by "${who}": only the claimant completes it`, 'id');
}

export async function completePowerRequest(ctx: OperationContext, args: { id: string; results: PowerResult[] }): Promise<PowerRequest> {
  const site = agentSite(ctx);
  const stored = await storedRequest(ctx, args.id);
  if (!stored) throw new NotFoundError('power request', args.id, 'id');
  const { request: current, claimedBy } = stored;
  const who = ctx.identity.subject;
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
  if (current.status === 'PENDING') throw new ConflictError(`power request ${args.id} is PENDING, not RUNNING: claim it first`, 'id');
  // Only the claimant completes (after a takeover, the former claimant's late results must not land).
  if (claimedBy !== who) throw notClaimant(args.id, claimedBy, who, current.status);
  if (current.status === 'DONE') {
    // Completed before completions ran under the idempotency record: the stored results decide.
    const canonical = (list: PowerResult[]) => JSON.stringify(list.map((r) => [r.xname, r.ok, r.powerState ?? null, r.bootOverride ?? null, r.error ?? null]));
    if (canonical(current.results) === canonical(results)) return current;
  }
  // A completion is idempotent per request: a retry with the same results (the agent's answer
  // was lost) gets the request as completed; other results for a completed request are CONFLICT.
  await idempotent(
    ctx.clients,
    { scope: 'powerComplete', key: args.id, payload: results, expiresAfterSeconds: COMPLETION_TTL_SECONDS, field: 'id' },
    async () => {
      try {
        await ctx.clients.doc.send(
          new UpdateCommand({
            TableName: ctx.clients.config.tableName,
            Key: commandKey(args.id),
            UpdateExpression: 'SET #s = :done, completedAt = :now, results = :r, GSI1PK = :pk',
            ConditionExpression: '#s = :running AND site = :site AND claimedBy = :who',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':done': 'DONE', ':running': 'RUNNING', ':now': new Date().toISOString(), ':r': results, ':pk': siteCommandsPk(site, 'DONE'), ':site': site, ':who': who },
          }),
        );
      } catch (err) {
        if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
        // Changed since the read (taken over, or completed with other results): say by whom.
        const now = await storedRequest(ctx, args.id);
        if (now && now.claimedBy !== who) throw notClaimant(args.id, now.claimedBy, who, now.request.status);
        throw new ConflictError(`power request ${args.id} is ${now?.request.status ?? 'gone'}, not RUNNING: claim it first`, 'id');
      }
      // The request itself is the answer; the record keeps only that the completion ran.
      return { id: args.id };
    },
  );
  const done = await storedRequest(ctx, args.id);
  if (!done) throw new NotFoundError('power request', args.id, 'id');
  return done.request;
}
