/**
 * The HTTP server's view of this agent's DHCP leases (nodeScope.ts's LeaseTable) over whatever
 * DHCP server runs, read on every check: the server starts after HTTP and may be absent (off or
 * ProxyDHCP hands out no addresses, so no lease ever matches).
 */
import type { LeaseTable } from './nodeScope.js';

/** What this needs of the DHCP server: its current leases. */
export interface LeaseSource {
  leases(): ReadonlyArray<{ mac: string; ip: string; state: string }>;
}

export function dhcpLeaseTable(server: () => LeaseSource | null | undefined): LeaseTable {
  return {
    // Only bound leases: an offer is not the client's address until it REQUESTs it.
    boundAddresses: (mac) => (server()?.leases() ?? []).filter((l) => l.mac === mac && l.state === 'bound').map((l) => l.ip),
    macAt: (address) => (server()?.leases() ?? []).find((l) => l.ip === address && l.state === 'bound')?.mac ?? null,
  };
}
