/**
 * What the DHCP server takes from the stored snapshot: each node interface's first IP as its
 * static lease (MAC → IP, host name = xname), and every IP the inventory assigns, which the
 * pool must never hand to another machine. Read through the live index, so a new snapshot
 * applies to the next request.
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
