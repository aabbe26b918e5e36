/**
 * Ethernet interfaces live on their component item (read with it, versioned with it); the
 * uniqueness of a MAC (one component) and of an IP (one interface per network) is held by
 * claim items written in the component's transaction. Re-stating a component's own MAC or IP
 * is a no-op on its claim, and a MAC or IP the component no longer lists is released.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, NotFoundError } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { ipKey, macKey, nidKey } from './keys.js';
import type { ComponentRecord, InterfaceRecord } from './model.js';
import type { Step } from '../shared/transact.js';
import { interfaceMac, ipv4, list, name, object, optionalString } from './validation.js';

export const DEFAULT_NETWORK = 'default';
const MAX_INTERFACES = 32;
const MAX_IPS_PER_INTERFACE = 16;

export function normaliseInterface(raw: unknown, field: string): InterfaceRecord {
  const o = object(raw, field);
  const ips = o.ipAddresses === undefined || o.ipAddresses === null ? [] : list(o.ipAddresses, `${field}.ipAddresses`);
  if (ips.length > MAX_IPS_PER_INTERFACE) throw new BadUserInputError(`${field}.ipAddresses`, `has more than ${MAX_IPS_PER_INTERFACE} addresses`);
  const ipAddresses = [...new Set(ips.map((ip, j) => ipv4(ip, `${field}.ipAddresses[${j}]`)))];
  const description = optionalString(o.description, `${field}.description`);
  return {
    mac: interfaceMac(o.mac, `${field}.mac`),
    ipAddresses,
    network: o.network === undefined || o.network === null ? DEFAULT_NETWORK : name(o.network, `${field}.network`),
    ...(description !== undefined ? { description } : {}),
  };
}

/** A component's full interface list: no MAC twice, no IP twice in one network. */
export function normaliseInterfaces(raw: unknown, field: string): InterfaceRecord[] {
  const items = list(raw, field);
  if (items.length > MAX_INTERFACES) throw new BadUserInputError(field, `has more than ${MAX_INTERFACES} interfaces`);
  const out = items.map((r, i) => normaliseInterface(r, `${field}[${i}]`));
  const macs = new Set<string>();
  const ips = new Set<string>();
  out.forEach((iface, i) => {
    if (macs.has(iface.mac)) throw new BadUserInputError(`${field}[${i}].mac`, `${iface.mac} is listed twice`);
    macs.add(iface.mac);
    for (const ip of iface.ipAddresses) {
      const k = `${iface.network}#${ip}`;
      if (ips.has(k)) throw new BadUserInputError(`${field}[${i}].ipAddresses`, `${ip} is listed twice in network ${iface.network}`);
      ips.add(k);
    }
  });
  return out;
}

interface Claim {
  Key: { PK: string; SK: string };
  attrs: Record<string, unknown>;
  /** `holder`: the xname the stored claim names, when DynamoDB returned it. */
  conflict: (holder?: string) => ConflictError;
}

/** Every identity `r` claims in its site, by claim PK: each MAC, each IP in its network, the NID. */
export function claimsOf(r: ComponentRecord | undefined): Map<string, Claim> {
  const out = new Map<string, Claim>();
  if (!r) return out;
  const site = r.site;
  r.interfaces.forEach((iface, i) => {
    const field = `interfaces[${i}]`;
    const mk = macKey(site, iface.mac);
    out.set(mk.PK, { Key: mk, attrs: { entity: 'MacClaim', mac: iface.mac, site }, conflict: (holder) => new ConflictError(`${field}.mac: ${iface.mac} already belongs to ${holder ?? 'another component'} of site ${site}`, `${field}.mac`) });
    for (const ip of iface.ipAddresses) {
      const k = ipKey(site, iface.network, ip);
      out.set(k.PK, { Key: k, attrs: { entity: 'IpClaim', network: iface.network, ip, mac: iface.mac, site }, conflict: (holder) => new ConflictError(`${field}.ipAddresses: ${ip} is already assigned ${holder ? `to ${holder} ` : ''}in network ${iface.network} of site ${site}`, `${field}.ipAddresses`) });
    }
  });
  if (r.nid !== undefined) {
    const nid = r.nid;
    const k = nidKey(site, nid);
    out.set(k.PK, { Key: k, attrs: { entity: 'NidClaim', nid, site }, conflict: (holder) => new ConflictError(`nid: ${nid} already belongs to ${holder ?? 'another component'} of site ${site}`, 'nid') });
  }
  return out;
}

/** What a claim item says it guards, for messages: "MAC 52:54:…", "IP 10.0.0.10 in network default", "nid 1". */
export function claimLabel(item: Record<string, unknown>): string {
  if (item.entity === 'MacClaim') return `MAC ${String(item.mac)}`;
  if (item.entity === 'IpClaim') return `IP ${String(item.ip)} in network ${String(item.network)}`;
  return `nid ${String(item.nid)}`;
}

/**
 * The claim writes that move a component from `before` to `after` (also across sites): new
 * MACs, IPs and NID are claimed (condition: free, or already ours), dropped ones released
 * (condition: still ours).
 */
export function claimSteps(ctx: OperationContext, before: ComponentRecord | undefined, after: ComponentRecord | undefined): Step[] {
  const TableName = ctx.clients.config.tableName;
  const xname = (after ?? before)!.xname;
  const steps: Step[] = [];
  const old = claimsOf(before);
  const next = claimsOf(after);
  for (const [pk, c] of next) {
    if (old.has(pk)) continue;
    steps.push({
      item: { Put: { TableName, Item: { ...c.Key, ...c.attrs, xname }, ConditionExpression: 'attribute_not_exists(PK) OR xname = :me', ExpressionAttributeValues: { ':me': xname }, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
      onConditionFailed: (stored) => c.conflict(typeof stored?.xname === 'string' ? stored.xname : undefined),
    });
  }
  for (const [pk, c] of old) {
    if (next.has(pk)) continue;
    steps.push({ item: { Delete: { TableName, Key: c.Key, ConditionExpression: 'xname = :me', ExpressionAttributeValues: { ':me': xname } } }, retryOnConditionFailed: true });
  }
  return steps;
}

/** The xname a MAC is claimed by in `site`, or NOT_FOUND. */
export async function macOwner(ctx: OperationContext, site: string, m: string, field = 'mac'): Promise<string> {
  const res = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: macKey(site, m), ConsistentRead: true }));
  if (!res.Item) throw new NotFoundError('interface with MAC', `${m} in site ${site}`, field);
  return String(res.Item.xname);
}
