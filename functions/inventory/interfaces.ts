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
import type { Step } from './transact.js';
import { ipv4, list, mac, name, object, optionalString } from './validation.js';

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
    mac: mac(o.mac, `${field}.mac`),
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

const ipClaims = (r: ComponentRecord | undefined) => new Map((r?.interfaces ?? []).flatMap((i) => i.ipAddresses.map((ip) => [`${i.network}#${ip}`, { network: i.network, ip, mac: i.mac }] as const)));

/**
 * The claim writes that move a component from `before` to `after`: new MACs, IPs and NID are
 * claimed (condition: free, or already ours), dropped ones released (condition: still ours).
 */
export function claimSteps(ctx: OperationContext, before: ComponentRecord | undefined, after: ComponentRecord | undefined): Step[] {
  const TableName = ctx.clients.config.tableName;
  const xname = (after ?? before)!.xname;
  const steps: Step[] = [];
  const claim = (Key: Record<string, string>, attrs: Record<string, unknown>, conflict: () => ConflictError): Step => ({
    item: {
      Put: {
        TableName,
        Item: { ...Key, ...attrs, xname },
        ConditionExpression: 'attribute_not_exists(PK) OR xname = :me',
        ExpressionAttributeValues: { ':me': xname },
      },
    },
    onConditionFailed: conflict,
  });
  const release = (Key: Record<string, string>): Step => ({
    item: { Delete: { TableName, Key, ConditionExpression: 'xname = :me', ExpressionAttributeValues: { ':me': xname } } },
    retryOnConditionFailed: true,
  });

  const oldMacs = new Set((before?.interfaces ?? []).map((i) => i.mac));
  const newMacs = new Set((after?.interfaces ?? []).map((i) => i.mac));
  (after?.interfaces ?? []).forEach((iface, i) => {
    if (oldMacs.has(iface.mac)) return;
    steps.push(claim(macKey(iface.mac), { entity: 'MacClaim', mac: iface.mac, site: after!.site }, () => new ConflictError(`interfaces[${i}].mac: ${iface.mac} already belongs to another component`, `interfaces[${i}].mac`)));
  });
  for (const m of oldMacs) if (!newMacs.has(m)) steps.push(release(macKey(m)));

  const oldIps = ipClaims(before);
  const newIps = ipClaims(after);
  for (const [k, v] of newIps) {
    if (oldIps.has(k)) continue;
    steps.push(claim(ipKey(v.network, v.ip), { entity: 'IpClaim', network: v.network, ip: v.ip, mac: v.mac }, () => new ConflictError(`ipAddresses: ${v.ip} is already assigned in network ${v.network}`, 'ipAddresses')));
  }
  for (const [k, v] of oldIps) if (!newIps.has(k)) steps.push(release(ipKey(v.network, v.ip)));

  if (after?.nid !== undefined && after.nid !== before?.nid) {
    const nid = after.nid;
    steps.push(claim(nidKey(nid), { entity: 'NidClaim', nid }, () => new ConflictError(`nid: ${nid} already belongs to another component`, 'nid')));
  }
  if (before?.nid !== undefined && before.nid !== after?.nid) steps.push(release(nidKey(before.nid)));
  return steps;
}

/** The xname a MAC is claimed by, or NOT_FOUND. */
export async function macOwner(ctx: OperationContext, m: string, field = 'mac'): Promise<string> {
  const res = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: macKey(m), ConsistentRead: true }));
  if (!res.Item) throw new NotFoundError('interface with MAC', m, field);
  return String(res.Item.xname);
}
