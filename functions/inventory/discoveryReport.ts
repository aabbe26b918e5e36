/**
 * reportDiscovery: what an agent's Redfish walk found, applied for the agent's own site in one
 * call (endpoints, then components with their interfaces, then hardware). Each part is an
 * idempotent upsert; the report as a whole runs under functions/shared/idempotency.ts, so a
 * redelivered report (same idempotencyKey and content, e.g. retried from the agent's outbox)
 * answers the first result without applying anything again, a concurrent redelivery waits
 * for it, and the same key with other content is CONFLICT.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ForbiddenError, SkybootError, toErrorShape } from '../../schema/errors.js';
import { idempotent } from '../shared/idempotency.js';
import type { OperationContext } from '../shared/handler.js';
import { upsertComponentRecords, type UpsertError } from './componentUpsert.js';
import { mapLimit } from '../shared/concurrency.js';
import { DISCOVERY_STATUSES, enumValue } from './enums.js';
import { readHardware, writeHardware } from './hardware.js';
import { assertAllowedAt, siteScope } from '../shared/identity.js';
import { discoveryReceiptIndex, discoveryReceiptKey } from './keys.js';
import { address, bmcXname, writeEndpoint } from './redfishEndpoints.js';
import { interfaceMac, list, object, optionalString, xname } from './validation.js';
import { getComponents } from './componentStore.js';

export interface DiscoveryReportResult {
  idempotencyKey: string;
  replayed: boolean;
  endpoints: number;
  components: number;
  /** At most MAX_LISTED_ERRORS errors, in input order; errorsOmitted counts the rest. */
  errors: UpsertError[];
  /** Errors beyond MAX_LISTED_ERRORS, counted but not listed. */
  errorsOmitted: number;
}

/** Results outlive any outbox retry window, then DynamoDB TTL removes them. */
const RESULT_TTL_SECONDS = 30 * 24 * 3600;
const MAX_REPORT = 5000;
/** The result is stored for replay: its errors are capped so the record stays far below 400 KB. */
const MAX_LISTED_ERRORS = 500;

export async function reportDiscovery(ctx: OperationContext, args: { input: unknown }): Promise<DiscoveryReportResult> {
  const site = ctx.identity.site;
  if (!site) throw new ForbiddenError('reportDiscovery: the agent identity names no site');
  const input = object(args.input, 'input');
  const key = optionalString(input.idempotencyKey, 'input.idempotencyKey', 128);
  if (!key || !/^[\w.:-]+$/.test(key)) throw new BadUserInputError('input.idempotencyKey', 'is required: 1-128 of letters, digits, _ . : -');
  const endpoints = input.endpoints === undefined || input.endpoints === null ? [] : list(input.endpoints, 'input.endpoints');
  const comps = input.components === undefined || input.components === null ? [] : list(input.components, 'input.components');
  if (endpoints.length + comps.length > MAX_REPORT) throw new BadUserInputError('input', `at most ${MAX_REPORT} endpoints and components per report`);

  const { idempotencyKey: _k, ...content } = input;
  const run = await idempotent(
    ctx.clients,
    { scope: `discovery#${site}`, key, payload: content, expiresAfterSeconds: RESULT_TTL_SECONDS, field: 'input.idempotencyKey' },
    () => applyReport(ctx, site, key, endpoints, comps),
  );
  return { ...run.result, replayed: run.replayed };
}

async function applyReport(ctx: OperationContext, site: string, key: string, endpoints: unknown[], comps: unknown[]): Promise<DiscoveryReportResult> {
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

  await keepInventoryAddresses(ctx, site, componentInputs);

  const errors: UpsertError[] = [];
  let endpointCount = 0;
  await mapLimit(endpointChanges.map((c, index) => ({ c, index })), 16, async ({ c, index }) => {
    try {
      await writeEndpoint(ctx, c, 'reportDiscovery');
      endpointCount++;
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      errors.push({ index, path: `input.endpoints[${index}]`, xname: c.xname, ...pick(err) });
    }
  });
  const upserted = await upsertComponentRecords(ctx, componentInputs, { operation: 'reportDiscovery' });
  // The upsert names its own input list; here that list is input.components.
  errors.push(...upserted.result.errors.map((e) => ({ ...e, path: e.path.replace(/^input\[/, 'input.components['), message: e.message.replace(/^input\[/, 'input.components[') })));
  const componentIndex = new Map(componentInputs.map((c, i) => [c.xname, i]));
  await mapLimit(upserted.stored, 16, async (c) => {
    const inv = hardware.get(c.xname);
    if (!inv) return;
    const index = componentIndex.get(c.xname) ?? -1;
    try {
      await writeHardware(ctx, c.xname, site, inv, 'reportDiscovery');
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      errors.push({ index, path: `input.components[${index}].hardware`, xname: c.xname, ...pick(err) });
    }
  });

  const omitted = errors.length - Math.min(errors.length, MAX_LISTED_ERRORS) + upserted.result.errorsOmitted;
  const result: DiscoveryReportResult = { idempotencyKey: key, replayed: false, endpoints: endpointCount, components: upserted.stored.length, errors: errors.slice(0, MAX_LISTED_ERRORS), errorsOmitted: omitted };
  // The receipt lists the report per site, newest first, so an agent and an operator can see
  // what it refused (discoveryReceipts); replay goes through the idempotency record, not it.
  await ctx.clients.doc.send(
    new PutCommand({
      TableName: ctx.clients.config.tableName,
      Item: { ...discoveryReceiptKey(site, key), ...discoveryReceiptIndex(site, now, key), entity: 'DiscoveryReceipt', site, agent: ctx.identity.subject, result, at: now, ttl: Math.floor(Date.now() / 1000) + RESULT_TTL_SECONDS },
    }),
  );
  return result;
}

/**
 * A Redfish walk sees a node's MACs, not the addresses its OS uses on them: those are the
 * operator's (upsertComponents, addEthernetInterface). A reported interface whose MAC the
 * component already has keeps that interface's addresses, and its network, unless the report
 * gives its own, so a re-discovery never strips the address node-scoped serving checks a node by.
 */
async function keepInventoryAddresses(ctx: OperationContext, site: string, inputs: { xname: string; interfaces?: unknown }[]): Promise<void> {
  const withNics = inputs.filter((c) => Array.isArray(c.interfaces) && c.interfaces.length > 0);
  if (!withNics.length) return;
  const stored = await getComponents(ctx, withNics.map((c) => ({ site, xname: c.xname })));
  withNics.forEach((c, i) => {
    const known = new Map((stored[i]?.interfaces ?? []).map((n) => [n.mac, n]));
    if (!known.size) return;
    c.interfaces = (c.interfaces as unknown[]).map((raw) => {
      if (!raw || typeof raw !== 'object') return raw;
      const nic = raw as { mac?: unknown; ipAddresses?: unknown; network?: unknown };
      let mac: string;
      try {
        mac = interfaceMac(nic.mac);
      } catch {
        return raw; // the upsert refuses it, naming the field
      }
      const had = known.get(mac);
      const keepIps = nic.ipAddresses === undefined || nic.ipAddresses === null;
      const keepNetwork = nic.network === undefined || nic.network === null;
      if (!had || (!keepIps && !keepNetwork)) return raw;
      return { ...nic, ...(keepIps ? { ipAddresses: had.ipAddresses } : {}), ...(keepNetwork ? { network: had.network } : {}) };
    });
  });
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
  assertAllowedAt(ctx.identity, ctx.access, site, 'site');
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
