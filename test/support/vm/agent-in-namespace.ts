/**
 * The Skyboot agent as boot tests run it inside a site namespace:
 *   ip netns exec NS node --import tsx agent-in-namespace.ts CONFIG.json
 *
 * It starts the real agent (`startAgent`: sync, outbox, HTTP, TFTP) from a config file, and the
 * real DHCP server (`createDhcpServer`, full mode, static leases from the snapshot) when `run`
 * does not start one itself. Optional relays carry TCP connections from this namespace's
 * loopback to Unix sockets the test process serves in the host namespace: that is how the agent
 * reaches the test's cloud (gateway and S3) at the very URLs the cloud hands out, with no veth
 * and no route between the namespace and the host, and how the test "unplugs" the cloud.
 *
 * Prints one line `ready {json}` on stdout once every service listens; SIGTERM stops it.
 */
import { readFileSync } from 'node:fs';
import { resolveConfig, type RawConfig } from '../../../onprem-agent/config.js';
import { createDhcpServer, type DhcpServer } from '../../../onprem-agent/pxe/dhcp/server.js';
import { startAgent } from '../../../onprem-agent/run/agent.js';
import { startRelay } from './relay.js';

export interface AgentInNamespaceConfig {
  /** Passed to resolveConfig, as a config file would. */
  agent: RawConfig;
  /**
   * The DHCP server the test starts when `run` has none: `full` (authoritative for the site
   * LAN, static leases from the snapshot) or `proxy` (next to the site's own DHCP server).
   */
  dhcp: { mode: 'full' | 'proxy'; address: string; subnet: string; range?: string; router?: string; httpBaseUrl: string };
  /** TCP 127.0.0.1:port in this namespace → Unix socket in the host's file system. */
  relays?: { port: number; socket: string }[];
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: agent-in-namespace.ts CONFIG.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as AgentInNamespaceConfig;
  const relays = await Promise.all((cfg.relays ?? []).map((r) => startRelay({ host: '127.0.0.1', port: r.port }, { path: r.socket })));
  const agent = await startAgent(resolveConfig(cfg.agent), { syncBackoffBaseMs: 500, outboxBackoffBaseMs: 500, outboxBackoffMaxMs: 2000 });
  let dhcp: DhcpServer | null = null;
  if (!(await agent.status()).dhcp.running) {
    dhcp = await createDhcpServer({
      mode: cfg.dhcp.mode,
      dhcpAddress: cfg.dhcp.address,
      subnets: [{ cidr: cfg.dhcp.subnet, ...(cfg.dhcp.range ? { range: cfg.dhcp.range } : {}), ...(cfg.dhcp.router ? { router: cfg.dhcp.router } : {}) }],
      // The inventory's MAC → IP, as the agent's snapshot has it (nothing asks the cloud).
      lookupStaticLease: (mac) => {
        const node = agent.syncer.index?.byMac.get(mac);
        const ip = node?.interfaces.find((i) => i.mac === mac)?.ipAddresses[0];
        return node && ip ? { ip, hostname: node.xname } : undefined;
      },
      httpBaseUrl: cfg.dhcp.httpBaseUrl,
    });
  }
  process.stdout.write(`ready ${JSON.stringify({ http: agent.httpUrl, tftp: agent.tftp, dhcp: dhcp ? `${cfg.dhcp.mode}, started by the test entry` : 'started by run', revision: agent.syncer.index?.stored.revision ?? null })}\n`);
  const stop = async (): Promise<void> => {
    await dhcp?.close();
    await agent.stop();
    await Promise.all(relays.map((r) => r.close()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`agent-in-namespace: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
