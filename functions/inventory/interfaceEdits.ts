/** addEthernetInterface / removeEthernetInterface: edits of one component's interface list. */
import type { OperationContext } from '../shared/handler.js';
import { editComponent, expectedVersionArg } from './components.js';
import { macOwner, normaliseInterface, normaliseInterfaces } from './interfaces.js';
import { componentJson, type ComponentJson } from './model.js';
import { resolveSite } from './sites.js';
import { mac, xname } from './validation.js';

/** Adds the interface, or replaces the component's interface with the same MAC. */
export async function addEthernetInterface(ctx: OperationContext, args: { xname: unknown; site?: unknown; input: unknown; expectedVersion?: unknown }): Promise<ComponentJson> {
  const x = xname(args.xname);
  const iface = normaliseInterface(args.input, 'input');
  const site = await resolveSite(ctx, args.site);
  const r = await editComponent(ctx, site, x, expectedVersionArg(args.expectedVersion), 'addEthernetInterface', (cur, now) => {
    const interfaces = normaliseInterfaces([...cur.interfaces.filter((i) => i.mac !== iface.mac), iface], 'interfaces');
    return { ...cur, interfaces, version: cur.version + 1, updatedAt: now };
  });
  return componentJson(r);
}

export async function removeEthernetInterface(ctx: OperationContext, args: { mac: unknown; site?: unknown; expectedVersion?: unknown }): Promise<ComponentJson> {
  const m = mac(args.mac);
  const site = await resolveSite(ctx, args.site);
  const owner = await macOwner(ctx, site, m);
  const r = await editComponent(ctx, site, owner, expectedVersionArg(args.expectedVersion), 'removeEthernetInterface', (cur, now) => ({
    ...cur,
    interfaces: cur.interfaces.filter((i) => i.mac !== m),
    version: cur.version + 1,
    updatedAt: now,
  }));
  return componentJson(r);
}
