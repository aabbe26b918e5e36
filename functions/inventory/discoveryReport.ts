/**
 * reportDiscovery: what an agent's Redfish walk found, applied for the agent's own site in one
 * call (endpoints, then components with their interfaces, then hardware). Each part is an
 * idempotent upsert; the receipt item written last makes a redelivered report (same
 * idempotencyKey, e.g. retried from the agent's outbox) answer the first result without
 * applying anything again. An agent splits a large report into parts, each its own report with its
 * own idempotency key (every part is applied once, in any order: the upserts do not depend on each
 * other). The receipt keeps the first MAX_RECEIPT_ERRORS errors, each message capped, and counts
 * all of them, so a report that fails on every item still fits DynamoDB's 400 KB item limit.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ForbiddenError, SkybootError, toErrorShape } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { upsertComponents, type UpsertError } from './componentUpsert.js';
import { mapLimit } from '../shared/concurrency.js';
import { DISCOVERY_STATUSES, enumValue } from './enums.js';
import { readHardware, writeHardware } from './hardware.js';
import { discoveryReceiptKey } from './keys.js';
import { address, bmcXname, writeEndpoint } from './redfishEndpoints.js';
import { list, object, optionalString, xname } from './validation.js';

export interface DiscoveryReportResult {
  idempotencyKey: string;
  replayed: boolean;
  endpoints: number;
  components: number;
  /** The first MAX_RECEIPT_ERRORS errors; errorCount counts them all. */
  errors: UpsertError[];
  errorCount: number;
}

/** Receipts outlive any outbox retry window, then DynamoDB TTL removes them. */
const RECEIPT_TTL_SECONDS = 30 * 24 * 3600;
const MAX_REPORT = 5000;
export const MAX_RECEIPT_ERRORS = 100;
const MAX_ERROR_MESSAGE = 500;

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
  if (receipt.Item) {
    const stored = receipt.Item.result as DiscoveryReportResult;
    // Receipts written before errorCount existed stored every error.
    return { ...stored, errorCount: stored.errorCount ?? stored.errors.length, replayed: true };
  }

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

  const result: DiscoveryReportResult = {
    idempotencyKey: key,
    replayed: false,
    endpoints: endpointCount,
    components: upserted.components.length,
    errors: errors.slice(0, MAX_RECEIPT_ERRORS).map((e) => ({ ...e, message: e.message.length > MAX_ERROR_MESSAGE ? `${e.message.slice(0, MAX_ERROR_MESSAGE)}…` : e.message })),
    errorCount: errors.length,
  };
  await ctx.clients.doc.send(
    new PutCommand({
      TableName,
      Item: { ...discoveryReceiptKey(site, key), entity: 'DiscoveryReceipt', site, result, at: now, ttl: Math.floor(Date.now() / 1000) + RECEIPT_TTL_SECONDS },
      ConditionExpression: 'attribute_not_exists(PK)',
    }),
  ).catch((err: unknown) => {
    // A concurrent delivery of the same report finished first; both applied the same upserts.
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
  });
  return result;
}

function pick(err: SkybootError): { code: string; message: string } {
  const s = toErrorShape(err);
  return { code: s.code, message: s.message };
}
