/**
 * reportDiscovery: what an agent's Redfish walk found, applied for the agent's own site in one
 * call (endpoints, then components with their interfaces, then hardware). Each part is an
 * idempotent upsert; the receipt item written last makes a redelivered report (same
 * idempotencyKey, e.g. retried from the agent's outbox) answer the first result without
 * applying anything again.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ForbiddenError, SkybootError, toErrorShape } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { siteScope } from '../shared/identity.js';
import { upsertComponents, type UpsertError } from './componentUpsert.js';
import { mapLimit } from '../shared/concurrency.js';
import { DISCOVERY_STATUSES, enumValue } from './enums.js';
import { readHardware, writeHardware } from './hardware.js';
import { discoveryReceiptIndex, discoveryReceiptKey } from './keys.js';
import { address, bmcXname, writeEndpoint } from './redfishEndpoints.js';
import { list, object, optionalString, xname } from './validation.js';

export interface DiscoveryReportResult {
  idempotencyKey: string;
  replayed: boolean;
  endpoints: number;
  components: number;
  errors: UpsertError[];
}

/** Receipts outlive any outbox retry window, then DynamoDB TTL removes them. */
const RECEIPT_TTL_SECONDS = 30 * 24 * 3600;
const MAX_REPORT = 5000;

export async function reportDiscovery(ctx: OperationContext, args: { input: unknown }): Promise<DiscoveryReportResult> {
  const site = ctx.identity.site;
  if (!site) throw new ForbiddenError('reportDiscovery: the agent identity names no site');
  const input = object(args.input, 'input');
  const key = optionalString(input.idempotencyKey, 'input.idempotencyKey', 128);
  if (!key || !/^[\w.:-]+$/.test(key)) throw new BadUserInputError('input.idempotencyKey', 'is required: 1-128 of letters, digits, _ . : -');
  const endpoints = input.endpoints === undefined || input.endpoints === null ? [] : list(input.endpoints, 'input.endpoints');
  const comps = input.components === undefined || input.components === null ? [] : list(input.components, 'input.components');
  if (endpoints.length + comps.length > MAX_REPORT) throw new BadUserInputError('input', `at most ${MAX_REPORT} endpoints and components per report`);

  const TableName = ctx.clients.config.tableName;
  const receipt = await ctx.clients.doc.send(new GetCommand({ TableName, Key: discoveryReceiptKey(site, key), ConsistentRead: true }));
  if (receipt.Item) return { ...(receipt.Item.result as DiscoveryReportResult), replayed: true };

  // A malformed endpoint, xname or hardware record refuses the whole report before any write;
  // a component the upsert refuses (bad MAC, a taken MAC, another site's) is a per-item error.
  const now = new Date().toISOString();
  const endpointChanges = endpoints.map((raw, i) => {
    const o = object(raw, `input.endpoints[${i}]`);
    const error = optionalString(o.error, `input.endpoints[${i}].error`, 2048);
    return {
      ...bmcXname(o.xname, `input.endpoints[${i}].xname`),
      address: address(o.address, `input.endpoints[${i}].address`),
      discoveryStatus: enumValue(DISCOVERY_STATUSES, o.discoveryStatus, `input.endpoints[${i}].discoveryStatus`),
      lastDiscoveredAt: now,
      lastDiscoveryError: error ?? null,
      site,
    };
  });
  const hardware = new Map<string, ReturnType<typeof readHardware>>();
  const componentInputs = comps.map((raw, i) => {
    const o = object(raw, `input.components[${i}]`);
    const x = xname(o.xname, `input.components[${i}].xname`);
    if (o.hardware !== undefined && o.hardware !== null) hardware.set(x, readHardware(o.hardware, `input.components[${i}].hardware`));
    return { xname: x, site, state: o.state ?? undefined, arch: o.arch ?? undefined, interfaces: o.interfaces ?? undefined };
  });

  const errors: UpsertError[] = [];
  let endpointCount = 0;
  await mapLimit(endpointChanges, 16, async (c) => {
    try {
      await writeEndpoint(ctx, c, 'reportDiscovery');
      endpointCount++;
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      errors.push({ xname: c.xname, ...pick(err) });
    }
  });
  const upserted = await upsertComponents(ctx, componentInputs, 'reportDiscovery');
  errors.push(...upserted.errors);
  await mapLimit(upserted.components, 16, async (c) => {
    const inv = hardware.get(c.xname);
    if (!inv) return;
    try {
      await writeHardware(ctx, c.xname, site, inv, 'reportDiscovery');
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      errors.push({ xname: c.xname, ...pick(err) });
    }
  });

  const result: DiscoveryReportResult = { idempotencyKey: key, replayed: false, endpoints: endpointCount, components: upserted.components.length, errors };
  await ctx.clients.doc.send(
    new PutCommand({
      TableName,
      // Listed per site, newest first, so an agent and an operator can see what a report refused.
      Item: { ...discoveryReceiptKey(site, key), ...discoveryReceiptIndex(site, now, key), entity: 'DiscoveryReceipt', site, agent: ctx.identity.subject, result, at: now, ttl: Math.floor(Date.now() / 1000) + RECEIPT_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  ).catch((err: unknown) => {
    // A concurrent delivery of the same report finished first; both applied the same upserts.
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  });
  return result;
}

export interface DiscoveryReceipt {
  idempotencyKey: string;
  site: string;
  agent: string | null;
  at: string;
  endpoints: number;
  components: number;
  /** The items of the report the inventory refused, with the reason (e.g. a MAC another node holds). */
  rejected: UpsertError[];
}

/**
 * The site's latest discovery receipts, newest first: what each delivered report changed and
 * what it refused. An agent sees its own site's; people name the site (default: the
 * deployment's default site).
 */
export async function discoveryReceipts(ctx: OperationContext, args: { site?: string | null; first?: number | null }): Promise<DiscoveryReceipt[]> {
  const scope = siteScope(ctx.identity);
  const site = scope ?? args.site ?? ctx.clients.config.defaultSite;
  if (scope !== null && args.site && args.site !== scope) throw new ForbiddenError(`an agent of site ${scope} sees only its own discovery receipts, not site ${args.site}'s`);
  const first = args.first ?? 10;
  if (!Number.isInteger(first) || first < 1 || first > 100) throw new BadUserInputError('first', 'must be between 1 and 100');
  const out = await ctx.clients.doc.send(new QueryCommand({
    TableName: ctx.clients.config.tableName,
    IndexName: 'GSI1',
    KeyConditionExpression: 'GSI1PK = :p',
    ExpressionAttributeValues: { ':p': discoveryReceiptIndex(site, '', '').GSI1PK },
    ScanIndexForward: false,
    Limit: first,
  }));
  return (out.Items ?? []).map((item) => {
    const result = item.result as DiscoveryReportResult;
    return {
      idempotencyKey: result.idempotencyKey, site: String(item.site), agent: typeof item.agent === 'string' ? item.agent : null, at: String(item.at),
      endpoints: result.endpoints, components: result.components, rejected: result.errors ?? [],
    };
  });
}

function pick(err: SkybootError): { code: string; message: string } {
  const s = toErrorShape(err);
  return { code: s.code, message: s.message };
}
