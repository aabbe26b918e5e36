/** CLI: `run` starts every service until SIGINT/SIGTERM; `status` prints the agent's state. */
import { DiscoveryReceipts } from '../redfish/receipts.js';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { SkybootError } from '../../schema/errors.js';
import { DATA_DIR_HELP, DHCP_MODES, ISCSI_CHAP_MODES, ISCSI_MODES, loadAgentConfig, type RawConfig } from '../config.js';
import { knownValues } from '../../schema/cli/commandTree.js';
import { log } from '../logger.js';
import { loadSnapshot } from '../sync/snapshotStore.js';
import { readParked, type ParkedEntry } from '../outbox/outbox.js';
import { TEMP_FILE } from '../sync/atomicFile.js';
import { agentRequest } from './adminSocket.js';
import { lockHolder } from './dataDirLock.js';
import { WORKLOAD_KINDS } from '../orchestrator/workload/workloadManager.js';
import { TFTP_SERVE_COMMAND } from '../pxe/tftp/processCommand.js';
import type { TftpProcessOptions } from '../pxe/tftp/tftpProcess.js';
import { DHCP_SERVE_COMMAND } from '../pxe/dhcp/processCommand.js';
import type { DhcpProcessOptions } from '../pxe/dhcp/dhcpProcess.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/** The message once: a BadUserInputError's message already starts with its field. */
export function errorLine(err: unknown): string {
  const message = (err as Error).message;
  const field = err instanceof SkybootError ? err.field : undefined;
  return `skyboot-agent: ${field && !message.startsWith(`${field}: `) ? `${field}: ` : ''}${message}`;
}

function fail(err: unknown): void {
  process.stderr.write(`${errorLine(err)}\n`);
  process.exitCode = 2;
}

async function dirStats(dir: string, include: (name: string) => boolean = () => true): Promise<{ entries: number; bytes: number }> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter(include);
  const sizes = await Promise.all(files.map(async (f) => (await stat(join(dir, f)).catch(() => null))?.size ?? 0));
  return { entries: files.length, bytes: sizes.reduce((a, b) => a + b, 0) };
}

async function pendingStats(dir: string): Promise<{ depth: number; bytes: number }> {
  const all = await dirStats(dir, (f) => f.endsWith('.json') && !TEMP_FILE.test(f));
  return { depth: all.entries, bytes: all.bytes };
}

function parkedSummary(parked: Awaited<ReturnType<typeof readParked>>): { count: number; bytes: number; newest: ParkedEntry[] } {
  return { count: parked.length, bytes: parked.reduce((a, p) => a + p.bytes, 0), newest: parked.slice(-20).reverse().map(({ file: _f, ...p }) => p) };
}

/** What the data dir says when no agent answers: the stored snapshot, cache and outbox on disk. */
export async function offlineStatus(dataDir: string, tried?: string): Promise<Record<string, unknown>> {
  const stored = await loadSnapshot(dataDir).catch(() => null);
  return {
    agent: { running: false, dataDir, ...(tried ? { tried } : {}) },
    snapshot: stored ? { revision: stored.revision, contentHash: stored.contentHash, storedAt: stored.storedAt, nodes: stored.snapshot.nodes?.length ?? 0 } : null,
    cache: { ...(await dirStats(join(dataDir, 'cache', 'sha256'))), partial: await dirStats(join(dataDir, 'cache', 'partial')) },
    outbox: { ...(await pendingStats(join(dataDir, 'outbox', 'pending'))), parked: parkedSummary(await readParked(join(dataDir, 'outbox'))) },
    // The map and the refused items as the agent last read them from the cloud.
    discovery: await new DiscoveryReceipts(dataDir, null).status().catch(() => null),
  };
}

const configOptions = (cmd: Command): Command => cmd
  .option('--config <file>', 'JSON config file (keys: the flags in camelCase)')
  .option('--data-dir <dir>', DATA_DIR_HELP)
  .option('--http <addr:port>', 'HTTP boot service (default 0.0.0.0:8080)');

export function registerRunCommands(program: Command): void {
  configOptions(program.command('run').description('run every agent service: sync, outbox, HTTP, TFTP, DHCP, iSCSI'))
    .option('--cloud <url>', 'the Skyboot gateway URL')
    .option('--token-endpoint <url>', 'OAuth 2.0 token endpoint for the client-credentials grant')
    .option('--client-id <id>', "the site agent's OAuth client id")
    .option('--client-secret-file <file>', "file holding the site agent's client secret")
    .option('--scope <scopes>', 'scopes to request (default: every scope the client is allowed)')
    .option('--token-file <file>', "a site agent bearer token instead of client credentials (re-read on every request)")
    .option('--advertise-url <url>', 'base URL nodes use to reach the HTTP service (default: the Host header)')
    .option('--tftp <addr[:port]>', 'TFTP service address ("off" to disable)')
    .option('--tftp-root <dir>', 'directory with the iPXE binaries')
    .option('--tftp-workers <n>', 'processes serving TFTP transfers (default: one per CPU)')
    .option('--dhcp <mode>', 'proxy | full | off (default off)', knownValues(DHCP_MODES))
    .option('--dhcp-address <ip>', 'server identifier and next-server (default: the boot interface\'s address)')
    .option('--dhcp-interface <names>', 'boot NIC(s) DHCP replies leave from, comma-separated (default: the one holding --dhcp-address)')
    .option('--dhcp-subnet <cidr>', 'subnet served in full mode')
    .option('--dhcp-range <a-b>', 'pool for unknown machines in full mode')
    .option('--dhcp-router <ip>', 'router option in full mode')
    .option('--iscsi <backend>', 'tgt | lio | off (default off)', knownValues(ISCSI_MODES))
    .option('--iscsi-portal <addr:port>', 'portal this agent advertises (repeatable)', collect)
    .option('--tgt-control-port <n>', 'tgtd control port (non-default instance)')
    .option('--iscsi-chap <mode>', 'off | one-way | mutual: a CHAP secret per node (default off)', knownValues(ISCSI_CHAP_MODES))
    .option('--sync-interval <seconds>', 'seconds between snapshot pulls (default 30)')
    .option('--outbox-max-mb <n>', 'MiB of pending observations before new ones are refused with 503 (default 256)')
    .option('--workload <kind>', 'none | exec | slurm: who says a node is busy (options in the config file\'s workload object; default none)', knownValues(WORKLOAD_KINDS))
    .action(async (o: RawConfig & { config?: string }) => {
      try {
        // Listening before the start: a SIGTERM while the agent starts (it already holds the data
        // dir lock) stops it cleanly once started, instead of killing it with the lock taken.
        const signalled = new Promise<string>((resolve) => {
          process.once('SIGINT', () => resolve('SIGINT'));
          process.once('SIGTERM', () => resolve('SIGTERM'));
        });
        const config = loadAgentConfig(o);
        // Loaded here, not at the top: every service's code, which the other commands never run, stays unparsed when they start.
        const { startAgent } = await import('./agent.js');
        // TFTP runs in a child of this same program (pxe/tftp/tftpProcess.ts): process.argv[1] is its script.
        const agent = await startAgent(config, { serverProcessEntry: [process.argv[1]!] });
        process.stderr.write(`skyboot-agent: HTTP ${agent.httpUrl}${agent.tftp ? `, TFTP ${agent.tftp.address}:${agent.tftp.port}` : ''}\n`);
        log.info({ signal: await signalled }, 'stopping');
        await agent.stop();
      } catch (err) {
        fail(err);
      }
    });

  // Internal: the TFTP server process `run` starts; options arrive as JSON from the parent.
  program.command(`${TFTP_SERVE_COMMAND} <options>`, { hidden: true })
    .description('the TFTP server process of `skyboot-agent run` (started by it, not by hand)')
    .action(async (json: string) => {
      const { serveTftpForParent } = await import('../pxe/tftp/tftpProcess.js');
      await serveTftpForParent(JSON.parse(json) as TftpProcessOptions);
    });

  // Internal: the DHCP server process `run` starts; the inventory arrives over IPC.
  program.command(`${DHCP_SERVE_COMMAND} <options>`, { hidden: true })
    .description('the DHCP server process of `skyboot-agent run` (started by it, not by hand)')
    .action(async (json: string) => {
      const { serveDhcpForParent } = await import('../pxe/dhcp/dhcpProcess.js');
      await serveDhcpForParent(JSON.parse(json) as DhcpProcessOptions);
    });

  configOptions(program.command('status').description("the agent's state: cloud link, snapshot revision, cache, outbox"))
    .option('--json', 'machine output')
    .action(async (o: RawConfig & { config?: string; json?: boolean }) => {
      try {
        const cfg = loadAgentConfig(o);
        const host = cfg.http.address === '0.0.0.0' ? '127.0.0.1' : cfg.http.address.includes(':') ? `[${cfg.http.address}]` : cfg.http.address;
        const url = `http://${host}:${cfg.http.port}/status`;
        let status: unknown;
        // The agent that holds the data dir answers on its socket, whatever its --http says.
        const holder = await lockHolder(cfg.dataDir);
        const tried = holder?.socket ? `the admin socket ${holder.socket}` : url;
        try {
          if (holder?.socket) status = (await agentRequest(holder.socket, 'GET', '/status', undefined, 3000)).body;
          else {
            const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
            status = await res.json();
          }
        } catch (err) {
          // Said on stderr so --json stays one object; the object carries the same two facts.
          process.stderr.write(`skyboot-agent: no agent answered at ${tried} (${(err as Error).message}); showing data dir ${cfg.dataDir}\n`);
          status = { ...(await offlineStatus(cfg.dataDir, tried)), ...(holder ? { lock: { heldBy: holder } } : {}) };
        }
        process.stdout.write(o.json ? JSON.stringify(status) + '\n' : JSON.stringify(status, null, 2) + '\n');
      } catch (err) {
        fail(err);
      }
    });
}
