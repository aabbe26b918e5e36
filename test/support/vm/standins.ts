/**
 * Stand-ins for the agent, for the harness self-test: dnsmasq (DHCP only), tftpd-hpa and a tiny
 * node HTTP server, all inside the site's namespace. If a boot works against these, the VM,
 * ROM, kernel, initramfs and heartbeat path are sound, and a failure of the agent's boot test is
 * the agent's.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SiteHost, type VmSite } from './site.js';
import { requireExecutable } from './tools.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, '../../..');

export interface HeartbeatRecord {
  at: string;
  from: string;
  body: string;
}

export interface StandIns {
  httpPort: number;
  heartbeats(): HeartbeatRecord[];
  /** Everything the stand-ins printed, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface StandInOptions {
  site: VmSite;
  workDir: string;
  /** Served over HTTP at /<name>. */
  httpRoot: string;
  /** Served over TFTP. */
  tftpRoot: string;
  /** What iPXE (user class "iPXE") is told to chain: a path on the HTTP stand-in. */
  scriptPath: string;
  httpPort?: number;
}

/** Resolves once `ss` shows something listening on `port` (udp or tcp) inside the namespace. */
export async function waitForListener(site: Pick<VmSite, 'ns' | 'run'>, proto: 'udp' | 'tcp', port: number, timeoutMs = 15000, proc?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const flag = proto === 'udp' ? '-Hlun' : '-Hltn';
  for (;;) {
    const out = site.run(requireExecutable('ss', 'iproute2'), [flag]);
    if (out.split('\n').some((l) => new RegExp(`[:.*]${port}\\s`).test(l + ' '))) return;
    if (proc && proc.exitCode !== null) throw new Error(`VM harness: ${proc.spawnfile} exited (${proc.exitCode}) before listening on ${proto}/${port}`);
    if (Date.now() > deadline) throw new Error(`VM harness: nothing listened on ${proto}/${port} in namespace ${site.ns} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function startStandIns(opts: StandInOptions): Promise<StandIns> {
  const { site, workDir } = opts;
  const dnsmasq = requireExecutable('dnsmasq', 'dnsmasq');
  const tftpd = requireExecutable('in.tftpd', 'tftpd-hpa');
  const httpPort = opts.httpPort ?? 8080;
  const heartbeatsFile = join(workDir, 'standin-heartbeats.jsonl');
  const procs: ChildProcess[] = [];
  let logs = '';
  const capture = (name: string, p: ChildProcess): ChildProcess => {
    p.stdout?.on('data', (d: Buffer) => (logs += `[${name}] ${d.toString()}`));
    p.stderr?.on('data', (d: Buffer) => (logs += `[${name}] ${d.toString()}`));
    procs.push(p);
    return p;
  };
  const net = site.subnet.split('/')[0]!.split('.').slice(0, 3).join('.');
  try {
    const http = capture('http', site.spawn(process.execPath, ['--import', 'tsx', join(HERE, 'http-standin.ts'), opts.httpRoot, String(httpPort), heartbeatsFile], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] }));
    const script = `http://${site.address}:${httpPort}/${opts.scriptPath.replace(/^\//, '')}`;
    const dhcp = capture('dnsmasq', site.spawn(dnsmasq, [
      '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root',
      `--interface=${site.bridge}`, '--bind-interfaces',
      `--dhcp-range=${net}.100,${net}.150,255.255.255.0,1h`,
      `--dhcp-leasefile=${join(workDir, 'dnsmasq.leases')}`,
      // The chain-loop break: iPXE says user class "iPXE" and gets the script; anything else
      // (OVMF's own PXE) gets iPXE over TFTP first.
      '--dhcp-userclass=set:ipxe,iPXE',
      '--dhcp-match=set:efi64,option:client-arch,7',
      '--dhcp-match=set:efi64,option:client-arch,9',
      `--dhcp-boot=tag:ipxe,${script}`,
      `--dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi,,${site.address}`,
      `--dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe,,${site.address}`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const tftp = capture('tftpd', site.spawn(tftpd, ['--foreground', '--address', `${site.address}:69`, '--secure', '--verbose', opts.tftpRoot], { stdio: ['ignore', 'pipe', 'pipe'] }));
    await waitForListener(site, 'tcp', httpPort, 30000, http);
    await waitForListener(site, 'udp', 67, 15000, dhcp);
    await waitForListener(site, 'udp', 69, 15000, tftp);
  } catch (e) {
    for (const p of procs) p.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
  }
  return {
    httpPort,
    heartbeats: () =>
      existsSync(heartbeatsFile)
        ? readFileSync(heartbeatsFile, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as HeartbeatRecord)
        : [],
    logs: () => logs,
    stop: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((res) => {
              if (p.exitCode !== null || p.signalCode !== null) return res();
              p.once('exit', () => res());
              p.kill('SIGTERM');
              setTimeout(() => p.kill('SIGKILL'), 3000).unref();
            }),
        ),
      );
    },
  };
}

export interface SiteDhcp {
  logs(): string;
  /** dnsmasq's lease file: one `expiry MAC IP hostname client-id` line per lease it gave. */
  leases(): string;
  stop(): Promise<void>;
}

/**
 * The site's own DHCP server, on another machine of the LAN: dnsmasq handing out addresses
 * from `range` (A,B) and nothing about booting, as a site's DHCP server does when the agent
 * runs in ProxyDHCP mode next to it. `reservations` are its fixed MAC → IP entries: a site
 * feeds its DHCP server the inventory's addresses, and the agent answers a node's cloud-init and
 * heartbeats only at the node's inventory address.
 */
export async function startSiteDhcp(host: SiteHost, workDir: string, range: { start: string; end: string }, reservations: Array<{ mac: string; ip: string }> = []): Promise<SiteDhcp> {
  const dnsmasq = requireExecutable('dnsmasq', 'dnsmasq');
  let logs = '';
  const leaseFile = join(workDir, `site-dhcp-${host.ns}.leases`);
  const p = host.spawn(dnsmasq, [
    '--no-daemon', '--conf-file=/dev/null', '--port=0', '--user=root',
    '--interface=eth0', '--bind-interfaces',
    `--dhcp-range=${range.start},${range.end},255.255.255.0,1h`,
    ...reservations.map((r) => `--dhcp-host=${r.mac},${r.ip}`),
    `--dhcp-leasefile=${leaseFile}`,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout?.on('data', (d: Buffer) => (logs += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (logs += d.toString()));
  try {
    await waitForListener(host, 'udp', 67, 15000, p);
  } catch (e) {
    p.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
  }
  return {
    logs: () => logs,
    leases: () => (existsSync(leaseFile) ? readFileSync(leaseFile, 'utf8') : ''),
    stop: () =>
      new Promise<void>((res) => {
        if (p.exitCode !== null || p.signalCode !== null) return res();
        p.once('exit', () => res());
        p.kill('SIGTERM');
        setTimeout(() => p.kill('SIGKILL'), 3000).unref();
      }),
  };
}
