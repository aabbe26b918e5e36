/**
 * `npm start`'s simulated site in site `local`'s inventory, as an operator would enter it: each
 * simulated BMC as a Redfish endpoint (so `skyboot-agent discover` names it from the inventory),
 * and each simulated node as a COMPUTE component with its boot MAC and the 127.77.x.y address its
 * simulated OS boots and heartbeats from (node-scoped serving answers a node only from the
 * address the inventory gives it, so without it the nodes boot but never validate a rollout).
 * Through the inventory domain's own operations, idempotent: a restart on the same data dir
 * finds everything unchanged.
 */
import { randomUUID } from 'node:crypto';
import { clients } from '../functions/shared/clients.js';
import type { OperationContext } from '../functions/shared/handler.js';
import { upsertComponents } from '../functions/inventory/componentUpsert.js';
import { upsertRedfishEndpoints } from '../functions/inventory/redfishEndpoints.js';
import type { SimulatedBmcInfo } from '../onprem-agent/redfish/simulator/fleet.js';

export interface DemoInventory {
  endpoints: number;
  nodes: { xname: string; mac: string; ip: string }[];
}

/** BMC i is x3000c0s<i>b0; its j-th system (discovery's order) is x3000c0s<i>b0n<j>. */
export async function registerSimulatedSite(site: string, bmcs: SimulatedBmcInfo[]): Promise<DemoInventory> {
  const ctx: OperationContext = { identity: { subject: 'npm-start', roles: ['admin'], site: null }, requestId: `npm-start-${randomUUID()}`, clients: clients(), access: 'write' };
  await upsertRedfishEndpoints(ctx, { input: bmcs.map((b) => ({ xname: `x3000c0s${b.index}b0`, address: `${b.host}:${b.port}`, site })) });
  const nodes = bmcs.flatMap((b) => b.nodes.map((n, j) => ({ xname: `x3000c0s${b.index}b0n${j}`, mac: n.mac, ip: n.ip })));
  const result = await upsertComponents(ctx, nodes.map((n, k) => ({ xname: n.xname, site, role: 'COMPUTE', nid: k + 1, interfaces: [{ mac: n.mac, ipAddresses: [n.ip] }] })));
  if (result.failed) throw new Error(`the simulated nodes could not be entered in site ${site}: ${JSON.stringify(result.errors)}`);
  return { endpoints: bmcs.length, nodes };
}
