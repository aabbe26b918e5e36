/** Shared pieces of the DHCP namespace tests: the server child, the probe, udhcpc. */
import { mkdtempSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { nextMessage, type NetnsHost } from '../../support/netns.js';
import { decodePacket, encodePacket, type DhcpPacket } from '../../../onprem-agent/pxe/dhcp/packet.js';
import type { DhcpServerOptions, DhcpStats } from '../../../onprem-agent/pxe/dhcp/server.js';
import type { StaticLease } from '../../../onprem-agent/pxe/dhcp/responder.js';

const FIXTURES = 'test/integration/pxe/fixtures';

export type ServerConfig = Omit<DhcpServerOptions, 'lookupStaticLease' | 'isInventoryIp' | 'httpBaseUrl'> & {
  staticLeases?: Record<string, StaticLease>;
  /** The HTTP base URL, or `httpPort` for one per boot-NIC address (what `skyboot-agent run` does). */
  httpBaseUrl?: string;
  httpPort?: number;
  /** Serve from the agent program's DHCP process (`dhcp-serve`), as `skyboot-agent run` does. */
  process?: boolean;
};

export interface RunningDhcp {
  child: ChildProcess;
  stats(): Promise<DhcpStats>;
  /** Pool leases, as the server (or the DHCP process's parent) knows them. */
  leases(): Promise<Array<{ mac: string; ip: string; state: string }>>;
  /** Stores a snapshot with these static leases; resolves once the server was told. */
  inventory(staticLeases: Record<string, StaticLease>): Promise<void>;
  stop(): Promise<void>;
}

export async function startDhcp(host: NetnsHost, config: ServerConfig): Promise<RunningDhcp> {
  const child = host.spawnNode(`${FIXTURES}/dhcp-server.ts`, [JSON.stringify(config)]);
  await nextMessage(child, (m): m is { ready: true } => typeof m === 'object' && m !== null && 'ready' in m);
  type StatsMessage = { stats: DhcpStats; leases: Array<{ mac: string; ip: string; state: string }> };
  const statsMessage = async (): Promise<StatsMessage> => {
    child.send({ cmd: 'stats' });
    return nextMessage(child, (m): m is StatsMessage => typeof m === 'object' && m !== null && 'stats' in m);
  };
  return {
    child,
    stats: async () => (await statsMessage()).stats,
    leases: async () => (await statsMessage()).leases,
    inventory: async (staticLeases) => {
      child.send({ cmd: 'inventory', staticLeases });
      await nextMessage(child, (m): m is { stored: number } => typeof m === 'object' && m !== null && 'stored' in m);
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.send({ cmd: 'close' });
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface Captured {
  from: string;
  port: number;
  packet: DhcpPacket;
}

/** Starts the probe in `host`; resolves once it listens, `done` yields what it heard. */
export async function probe(host: NetnsHost, spec: { port: number; listenMs: number; send?: Array<{ packet: DhcpPacket; address: string; port: number }> }): Promise<{ done: Promise<Captured[]> }> {
  const child = host.spawn(process.execPath, ['--import', 'tsx', `${FIXTURES}/dhcp-probe.ts`, JSON.stringify({
    port: spec.port,
    listenMs: spec.listenMs,
    send: (spec.send ?? []).map((s) => ({ hex: encodePacket(s.packet).toString('hex'), address: s.address, port: s.port })),
  })]);
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening\n')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`probe exited ${code} before listening: ${err}`)));
  });
  const done = new Promise<Captured[]>((resolve, reject) => {
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('['));
      if (code !== 0 || !line) return reject(new Error(`probe failed (${code}): ${err}`));
      resolve((JSON.parse(line) as Array<{ from: string; port: number; hex: string }>).map((c) => ({ from: c.from, port: c.port, packet: decodePacket(Buffer.from(c.hex, 'hex')) })));
    });
  });
  await listening;
  return { done };
}

/** busybox udhcpc in `host`; returns the variables its script saw on `bound`, or undefined. */
export async function udhcpc(host: NetnsHost, args: string[], opts: { tries?: number } = {}): Promise<{ env: Record<string, string> | undefined; log: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-udhcpc-'));
  const script = join(dir, 'script.sh');
  writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && env > ${dir}/bound.env\nexit 0\n`);
  chmodSync(script, 0o755);
  let log: string;
  try {
    const r = await host.exec('busybox', ['udhcpc', '-f', '-q', '-n', '-t', String(opts.tries ?? 3), '-T', '1', '-A', '1', '-i', 'eth0', '-s', script, ...args], { timeoutMs: 30000 });
    log = r.stdout + r.stderr;
  } catch (e) {
    log = String((e as { stderr?: string }).stderr ?? e);
  }
  const file = join(dir, 'bound.env');
  if (!existsSync(file)) return { env: undefined, log };
  const env = Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return { env, log };
}

/** The udhcpc arguments a PXE ROM's request looks like, for an IANA architecture type. */
export function pxeArgs(arch: number, ipxe = false): string[] {
  // PXE ROMs set the broadcast flag; without it dnsmasq unicasts to the unconfigured client.
  const a = ['-B', `-V`, `PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:002001`, '-x', `0x5d:${arch.toString(16).padStart(4, '0')}`];
  if (ipxe) a.push('-x', '0x4d:69505845'); // option 77 = "iPXE"
  return a;
}
