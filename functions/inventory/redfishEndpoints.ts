/**
 * Redfish endpoints: the BMCs an agent discovers through. Keyed by site and the BMC's xname,
 * listed per site on GSI1. Credentials are a reference into the site's secret store, never a secret.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError } from '../../schema/errors.js';
import { parseXName } from '../../schema/xname.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import type { Page } from '../shared/pagination.js';
import { mapLimit } from '../shared/concurrency.js';
import { DISCOVERY_STATUSES, optionalEnum, type DiscoveryStatus } from './enums.js';
import { redfishEndpointKey, siteEndpointsPk } from './keys.js';
import { pageAcross } from './paging.js';
import { assertKnownSites, canSee, listSites, requestedSite, resolveSite } from './sites.js';
import { transact } from '../shared/transact.js';
import { list, object, optionalBoolean, optionalString, xname } from './validation.js';
import { bool, int, nullable, object as shapeOf, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

type Item = Record<string, unknown>;

export interface RedfishEndpointJson {
  xname: string;
  type: string;
  address: string;
  credentialsRef: string | null;
  enabled: boolean;
  discoveryStatus: DiscoveryStatus;
  lastDiscoveredAt: string | null;
  lastDiscoveryError: string | null;
  site: string;
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** host or host:port; IPv6 literals in brackets. No scheme or path: the agent adds https://. */
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,252}))(:(\d{1,5}))?$/;

export function address(raw: unknown, field = 'address'): string {
  const m = typeof raw === 'string' ? ADDRESS.exec(raw.trim()) : null;
  if (!m || (m[4] !== undefined && (Number(m[4]) < 1 || Number(m[4]) > 65535))) {
    throw new BadUserInputError(field, `"${String(raw)}" is not host[:port] (no scheme, no path)`);
  }
  return raw as string;
}

const endpointDecoder: Decoder<RedfishEndpointJson> = shapeOf({
  xname: str,
  type: str,
  address: str,
  credentialsRef: nullable(str),
  enabled: withDefault(bool, true),
  discoveryStatus: withDefault(oneOf(DISCOVERY_STATUSES), 'PENDING'),
  lastDiscoveredAt: nullable(str),
  lastDiscoveryError: nullable(str),
  site: str,
  version: int,
  createdAt: str,
  updatedAt: str,
});

/** The stored RedfishEndpoint item (SK RFE) as the API returns it; StoredItemError if it is malformed. */
export const endpointJson = storedDecoder('RedfishEndpoint', endpointDecoder);

async function getEndpoint(ctx: OperationContext, site: string, x: string): Promise<Item | undefined> {
  const res = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: redfishEndpointKey(site, x), ConsistentRead: true }));
  return res.Item;
}

export interface EndpointChange {
  xname: string;
  type: string;
  /** Checked by the caller (requestedSite + assertKnownSites). */
  site: string;
  address?: string;
  credentialsRef?: string | null;
  enabled?: boolean;
  discoveryStatus?: DiscoveryStatus;
  lastDiscoveredAt?: string;
  lastDiscoveryError?: string | null;
}

/** Creates or merges one endpoint in its own transaction, conditional on the version read. */
export async function writeEndpoint(ctx: OperationContext, change: EndpointChange, operation: string): Promise<RedfishEndpointJson> {
  let out: Item | undefined;
  await transact(ctx, async () => {
    const site = change.site;
    const cur = await getEndpoint(ctx, site, change.xname);
    const now = new Date().toISOString();
    if (!cur && change.address === undefined) throw new BadUserInputError('address', `Redfish endpoint ${change.xname} is new and needs an address`);
    const next: Item = {
      ...(cur ?? { createdAt: now, discoveryStatus: 'PENDING', enabled: true }),
      ...redfishEndpointKey(site, change.xname),
      entity: 'RedfishEndpoint',
      xname: change.xname,
      type: change.type,
      site,
      version: ((cur?.version as number | undefined) ?? 0) + 1,
      updatedAt: now,
      GSI1PK: siteEndpointsPk(site),
      GSI1SK: change.xname,
    };
    for (const k of ['address', 'credentialsRef', 'enabled', 'discoveryStatus', 'lastDiscoveredAt', 'lastDiscoveryError'] as const) {
      const v = change[k];
      if (v === null) delete next[k];
      else if (v !== undefined) next[k] = v;
    }
    out = next;
    return [
      {
        item: {
          Put: {
            TableName: ctx.clients.config.tableName,
            Item: next,
            ...(cur ? { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': cur.version } } : { ConditionExpression: 'attribute_not_exists(PK)' }),
          },
        },
        retryOnConditionFailed: true,
      },
      { item: auditPut(ctx, { operation, target: change.xname, site: String(next.site), before: cur ? endpointJson(cur) : undefined, after: endpointJson(next) }) },
    ];
  });
  return endpointJson(out!);
}

export function bmcXname(raw: unknown, field: string): { xname: string; type: string } {
  const p = parseXName(xname(raw, field), field);
  return { xname: p.xname, type: p.type };
}

export async function upsertRedfishEndpoints(ctx: OperationContext, args: { input: unknown }): Promise<RedfishEndpointJson[]> {
  const inputs = list(args.input, 'input');
  if (inputs.length > 1000) throw new BadUserInputError('input', 'at most 1000 endpoints per call');
  const changes = inputs.map((raw, i): EndpointChange => {
    const o = object(raw, `input[${i}]`);
    const x = bmcXname(o.xname, `input[${i}].xname`);
    const credentialsRef = optionalString(o.credentialsRef, `input[${i}].credentialsRef`, 512);
    const enabled = optionalBoolean(o.enabled, `input[${i}].enabled`);
    return {
      ...x,
      address: address(o.address, `input[${i}].address`),
      ...(credentialsRef !== undefined ? { credentialsRef } : {}),
      ...(enabled !== undefined ? { enabled } : {}),
      site: requestedSite(ctx, o.site, `input[${i}].site`),
    };
  });
  await assertKnownSites(ctx, changes.map((c, i) => ({ site: c.site, field: `input[${i}].site` })));
  const seen = new Set<string>();
  for (const [i, c] of changes.entries()) {
    const ref = redfishEndpointKey(c.site, c.xname).PK;
    if (seen.has(ref)) throw new ConflictError(`input[${i}].xname: ${c.xname} of site ${c.site} appears more than once`, `input[${i}].xname`);
    seen.add(ref);
  }
  return mapLimit(changes, 16, (c) => writeEndpoint(ctx, c, 'upsertRedfishEndpoints'));
}

export async function redfishEndpoint(ctx: OperationContext, args: { xname: unknown; site?: unknown }): Promise<RedfishEndpointJson | null> {
  const x = xname(args.xname);
  const item = await getEndpoint(ctx, await resolveSite(ctx, args.site), x);
  return item && canSee(ctx, item.site) ? endpointJson(item) : null;
}

export async function redfishEndpoints(ctx: OperationContext, args: { filter?: unknown; first?: unknown; after?: unknown }): Promise<Page<RedfishEndpointJson>> {
  const f = args.filter === undefined || args.filter === null ? {} : object(args.filter, 'filter');
  const status = optionalEnum(DISCOVERY_STATUSES, f.discoveryStatus, 'filter.discoveryStatus');
  const sites = await listSites(ctx, f.site);
  return pageAcross(
    ctx.clients,
    sites.map((s) => ({ tag: s, input: { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': siteEndpointsPk(s) } } })),
    {
      first: args.first as number | undefined,
      after: args.after as string | undefined,
      ...(status ? { keep: (i: Item) => (i.discoveryStatus ?? 'PENDING') === status } : {}),
      toNode: endpointJson,
    },
  );
}

export async function deleteRedfishEndpoint(ctx: OperationContext, args: { xname: unknown; site?: unknown }): Promise<boolean> {
  const x = xname(args.xname);
  const site = await resolveSite(ctx, args.site);
  await transact(ctx, async () => {
    const cur = await getEndpoint(ctx, site, x);
    if (!cur || !canSee(ctx, cur.site)) return [];
    return [
      { item: { Delete: { TableName: ctx.clients.config.tableName, Key: redfishEndpointKey(site, x), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': cur.version } } }, retryOnConditionFailed: true },
      { item: auditPut(ctx, { operation: 'deleteRedfishEndpoint', target: x, before: endpointJson(cur) }) },
    ];
  });
  return true;
}
