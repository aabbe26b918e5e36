/**
 * ProxyDHCP answers per second: our server (proxy mode) against dnsmasq in proxy mode
 * (`dhcp-range=…,proxy` + `pxe-service`), each in turn in the same server namespace of a
 * private LAN, under the same load generator (bench/pxe/dhcpLoad.ts) in a client namespace.
 * Prints answers/s and the ratio; writes bench/out/pxe-dhcp.json.
 *   node --import tsx bench/pxe/dhcp.ts [--seconds 6] [--window 64] [--rounds 2]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createLan, type NetnsHost } from '../../test/support/netns.js';
import { startDhcp } from '../../test/integration/pxe/dhcpHarness.js';
import { numberArg } from '../support/args.js';

const SECONDS = numberArg('seconds', 6);
const WINDOW = numberArg('window', 64);
const ROUNDS = numberArg('rounds', 2);

interface LoadResult { answered: number; lost: number; sent: number; seconds: number; answersPerSecond: number }

async function load(cli: NetnsHost): Promise<LoadResult> {
  const { stdout } = await cli.exec(process.execPath, ['--import', 'tsx', 'bench/pxe/dhcpLoad.ts', JSON.stringify({ server: '10.70.0.1', durationMs: SECONDS * 1000, window: WINDOW, lossMs: 500 })], { timeoutMs: (SECONDS + 30) * 1000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const lan = await createLan([{ name: 'srv', cidr: '10.70.0.1/24' }, { name: 'cli', cidr: '10.70.0.2/24' }]);
const dir = mkdtempSync(join(tmpdir(), 'skyboot-bench-dhcp-'));
try {
  const { srv, cli } = { srv: lan.hosts.srv!, cli: lan.hosts.cli! };

  const runOurs = async (): Promise<LoadResult & { proxyOffers: number }> => {
    const ours = await startDhcp(srv, { mode: 'proxy', dhcpAddress: '10.70.0.1', httpBaseUrl: 'http://10.70.0.1:8080' });
    try {
      const r = await load(cli);
      return { ...r, proxyOffers: (await ours.stats()).proxyOffers };
    } finally {
      await ours.stop();
    }
  };
  const runDnsmasq = async (): Promise<LoadResult> => {
    const dnsmasq = srv.spawn('dnsmasq', ['--keep-in-foreground', '--no-resolv', '--no-hosts', '--port=0', '--user=root', '--bind-interfaces', '--interface=eth0',
      '--dhcp-range=10.70.0.0,proxy', '--pxe-service=x86PC,"Skyboot",undionly', '--pxe-service=X86-64_EFI,"Skyboot",ipxe', '--pxe-service=BC_EFI,"Skyboot",ipxe',
      '--dhcp-boot=undionly.kpxe,,10.70.0.1', '--quiet-dhcp', '--log-facility=/dev/null', `--pid-file=${dir}/pid`, `--dhcp-leasefile=${dir}/leases`], { stdio: ['ignore', 'ignore', 'pipe'] });
    const failed = new Promise<never>((_, reject) => dnsmasq.once('error', (err) => reject(new Error(`dnsmasq (Debian package dnsmasq) could not start: ${err.message}`))));
    try {
      await Promise.race([new Promise((r) => setTimeout(r, 1000)), failed]);
      return await load(cli);
    } finally {
      await stopChild(dnsmasq);
    }
  };
  // Alternating rounds, best of each, so a burst of load from elsewhere on the machine
  // does not decide the ratio.
  const oursRuns: Array<LoadResult & { proxyOffers: number }> = [];
  const dnsmasqRuns: LoadResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    oursRuns.push(await runOurs());
    dnsmasqRuns.push(await runDnsmasq());
  }
  const best = <T extends LoadResult>(runs: T[]): T => runs.reduce((a, b) => (b.answersPerSecond > a.answersPerSecond ? b : a));
  const oursResult = best(oursRuns);
  const dnsmasqResult = best(dnsmasqRuns);

  const figures = {
    bench: 'pxe-dhcp',
    what: 'ProxyDHCP DISCOVER→OFFER on port 67, in a network namespace',
    seconds: SECONDS,
    window: WINDOW,
    rounds: ROUNDS,
    skyboot: { answersPerSecond: +oursResult.answersPerSecond.toFixed(0), lost: oursResult.lost, proxyOffers: oursResult.proxyOffers, all: oursRuns.map((r) => +r.answersPerSecond.toFixed(0)) },
    dnsmasq: { answersPerSecond: +dnsmasqResult.answersPerSecond.toFixed(0), lost: dnsmasqResult.lost, all: dnsmasqRuns.map((r) => +r.answersPerSecond.toFixed(0)) },
    ratio: +(oursResult.answersPerSecond / dnsmasqResult.answersPerSecond).toFixed(2),
    at: new Date().toISOString(),
  };
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/pxe-dhcp.json', `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures, null, 2));
  console.log(`ProxyDHCP answers/s: skyboot ${figures.skyboot.answersPerSecond}, dnsmasq ${figures.dnsmasq.answersPerSecond}, ratio ${figures.ratio}`);
} finally {
  await lan.destroy();
  rmSync(dir, { recursive: true, force: true });
}
