/**
 * The DHCP server in a process of its own, as `skyboot-agent run` starts it (run/serverProcess.ts
 * supervises it). In the agent's event loop, DHCP answered between the writes of a boot storm's
 * HTTP artifacts: bench/bootstorm at 1,000 nodes, iPXE's DHCP exchange took a median of 23 s
 * (dnsmasq: 1 s) and 43 nodes gave up on it. A DHCP answer is a lookup and one datagram; in its
 * own process it waits for nothing but the CPU.
 *
 * What the child needs of the agent is the inventory's static leases and assigned addresses
 * (inventory.ts): sent as its greeting before it binds a socket (a full-mode server without them
 * would pool-lease known nodes), and again after each snapshot that changes them. It owns the
 * pool's lease file. It sends back each reply it sent (the boot timeline), its counters, and its
 * pool leases whenever they change: before an ACK that binds one leaves, so node-scoped HTTP
 * answers know the address before the client can use it.
 */
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import { addCounters, awaitGreeting, onParentMessage, serveForParent, startServerProcess } from '../../run/serverProcess.js';
import { inventoryLeaseTable, tableLeases, type InventoryLeaseTable } from './inventory.js';
import { DHCP_SERVE_COMMAND } from './processCommand.js';
import { createDhcpServer, type DhcpReplySent, type DhcpServer, type DhcpServerOptions, type DhcpStats } from './server.js';

/**
 * What crosses to the child: the server's options without its callbacks. `httpBaseUrl` is a URL,
 * or the HTTP port to name at each boot interface's address (what the agent does by default).
 */
export type DhcpProcessOptions = Omit<DhcpServerOptions, 'lookupStaticLease' | 'isInventoryIp' | 'onReply' | 'onAck' | 'httpBaseUrl' | 'now'> & {
  httpBaseUrl: string | { port: number };
};

type Lease = ReturnType<DhcpServer['leases']>[number];
type Ports = ReturnType<DhcpServer['ports']>;
type Ready = { ports: Ports; stats: DhcpStats };
type ChildMessage = { kind: 'reply'; sent: DhcpReplySent } | { kind: 'leases'; leases: Lease[] };

const LEASE_CHECK_MS = 500;

/** A boot-script base URL per boot-interface address, or one for all. */
export function httpBaseUrlOf(spec: DhcpProcessOptions['httpBaseUrl']): DhcpServerOptions['httpBaseUrl'] {
  return typeof spec === 'string' ? spec : (serverAddress) => `http://${serverAddress}:${spec.port}`;
}

/** The child's side (the hidden `dhcp-serve` command). */
export function serveDhcpForParent(options: DhcpProcessOptions): Promise<void> {
  return serveForParent<Ready, DhcpStats, ChildMessage>(async (send) => {
    let inventory = tableLeases(await awaitGreeting<InventoryLeaseTable>());
    onParentMessage<{ kind?: string; table?: InventoryLeaseTable }>((m) => {
      if (m?.kind === 'inventory' && m.table) inventory = tableLeases(m.table);
    });
    let server: DhcpServer | null = null;
    let sent = '[]';
    const sendLeases = () => {
      const leases = server?.leases() ?? [];
      const json = JSON.stringify(leases);
      if (json === sent) return;
      sent = json;
      send({ kind: 'leases', leases });
    };
    server = await createDhcpServer({
      ...options,
      httpBaseUrl: httpBaseUrlOf(options.httpBaseUrl),
      lookupStaticLease: (mac) => inventory.lookupStaticLease(mac),
      isInventoryIp: (ip) => inventory.isInventoryIp(ip),
      onReply: (reply) => send({ kind: 'reply', sent: reply }),
      // A static lease is not in the pool: nothing to tell.
      onAck: (mac) => {
        if (!inventory.lookupStaticLease(mac)) sendLeases();
      },
    });
    const running = server;
    // Offers lapsing, leases expiring, restored leases: checked on a timer.
    sendLeases();
    const timer = setInterval(sendLeases, LEASE_CHECK_MS);
    return {
      ready: { ports: running.ports(), stats: running.stats() },
      stats: () => running.stats(),
      close: async () => {
        clearInterval(timer);
        await running.close();
      },
    };
  });
}

export interface DhcpProcessStart {
  /** Node.js arguments that re-enter this program: the script path (process.argv[1]). */
  entry: string[];
  options: DhcpProcessOptions;
  /** The live snapshot: its leases are the child's greeting and follow inventoryChanged(). */
  inventory: () => SnapshotIndex | null | undefined;
  onReply?: (sent: DhcpReplySent) => void;
}

export interface DhcpProcess extends DhcpServer {
  /** A new snapshot was stored: its leases reach the child if they changed. */
  inventoryChanged(): void;
}

/** Starts the child and resolves once it listens; its failure to start is this call's error. */
export async function startDhcpProcess(start: DhcpProcessStart): Promise<DhcpProcess> {
  // Counters of children that ended, and the running one's.
  let ended: DhcpStats | null = null;
  let live: DhcpStats | null = null;
  let ports: Ports | null = null;
  let leases: Lease[] = [];
  let table = inventoryLeaseTable(start.inventory());
  let tableJson = JSON.stringify(table);

  const child = await startServerProcess<Ready, DhcpStats, ChildMessage>({
    label: 'DHCP server',
    entry: start.entry,
    command: DHCP_SERVE_COMMAND,
    // Started again, the child binds the ports it had.
    options: () => ({ ...start.options, ...(ports?.dhcp ? { port: ports.dhcp } : {}), ...(ports?.pxe ? { pxePort: ports.pxe } : {}) }),
    greeting: () => table,
    onReady: (ready) => {
      ports = ready.ports;
      live = ready.stats;
    },
    onStats: (stats) => { live = stats; },
    onMessage: (m) => {
      if (m.kind === 'reply') start.onReply?.(m.sent);
      else leases = m.leases;
    },
    onExit: () => {
      if (live) ended = ended ? addCounters(ended, live) : live;
      live = null;
    },
  });

  return {
    inventoryChanged: () => {
      const next = inventoryLeaseTable(start.inventory());
      const json = JSON.stringify(next);
      if (json === tableJson) return;
      [table, tableJson] = [next, json];
      child.send({ kind: 'inventory', table });
    },
    ports: () => ports ?? { dhcp: undefined, pxe: undefined },
    stats: () => {
      const sum = ended && live ? addCounters(ended, live) : (live ?? ended)!;
      return { ...sum, leases: leases.length, lastSendError: live?.lastSendError ?? ended?.lastSendError ?? null };
    },
    leases: () => leases,
    close: () => child.close(),
  };
}
