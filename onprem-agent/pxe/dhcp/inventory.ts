/**
 * What the DHCP server takes from the stored snapshot: each node interface's first IP as its
 * static lease (MAC → IP, host name = xname), and every IP the inventory assigns, which the
 * pool must never hand to another machine.
 *
 * In the agent's process the server reads the live index, so a new snapshot applies to the next
 * request. The DHCP process (dhcpProcess.ts) gets the same facts as an InventoryLeaseTable, plain
 * data sent again with each snapshot, and answers from maps built from it.
 */
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import type { StaticLease } from './responder.js';

export interface InventoryLeases {
  lookupStaticLease(mac: string): StaticLease | undefined;
  isInventoryIp(ip: string): boolean;
}

export function inventoryLeases(index: () => SnapshotIndex | null | undefined): InventoryLeases {
  return {
    lookupStaticLease(mac) {
      const node = index()?.byMac.get(mac);
      const ip = node?.interfaces.find((i) => i.mac === mac)?.ipAddresses[0];
      return node && ip ? { ip, hostname: node.xname } : undefined;
    },
    isInventoryIp: (ip) => index()?.byIp.has(ip) ?? false,
  };
}

/** The same facts as data: [mac, ip, xname] per static lease, and every assigned IP. */
export interface InventoryLeaseTable {
  leases: Array<[mac: string, ip: string, hostname: string]>;
  inventoryIps: string[];
}

export function inventoryLeaseTable(index: SnapshotIndex | null | undefined): InventoryLeaseTable {
  const leases: InventoryLeaseTable['leases'] = [];
  const lookup = inventoryLeases(() => index);
  for (const mac of index?.byMac.keys() ?? []) {
    const lease = lookup.lookupStaticLease(mac);
    // inventoryLeases always names the host: its xname.
    if (lease?.hostname) leases.push([mac, lease.ip, lease.hostname]);
  }
  return { leases, inventoryIps: [...(index?.byIp.keys() ?? [])] };
}

export function tableLeases(table: InventoryLeaseTable): InventoryLeases {
  const byMac = new Map(table.leases.map(([mac, ip, hostname]) => [mac, { ip, hostname }]));
  const ips = new Set(table.inventoryIps);
  return { lookupStaticLease: (mac) => byMac.get(mac), isInventoryIp: (ip) => ips.has(ip) };
}
