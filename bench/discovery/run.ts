/**
 * Discovery of 1,000 simulated BMCs with 30 ms per request. The peer is the ideal bound for the
 * same work: every request the BMCs served × latency ÷ concurrency, i.e. the wall time if the
 * global bound were kept full the whole run and the client cost nothing.
 *
 *   node --import tsx bench/discovery/run.ts [--bmcs 1000] [--latency-ms 30] [--concurrency 100]
 */
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { CredentialResolver } from '../../onprem-agent/redfish/credentials.js';
import { discover } from '../../onprem-agent/redfish/discover.js';
import type { FleetStats, SimulatedBmcInfo } from '../../onprem-agent/redfish/simulator/fleet.js';
import { numberArg } from '../support/args.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = resolve(here, '../..');
const bmcCount = numberArg('bmcs', 1000);
const latencyMs = numberArg('latency-ms', 30);
const concurrency = numberArg('concurrency', 100);

type Msg = { type: 'ready'; bmcs: SimulatedBmcInfo[]; username: string; password: string } | { type: 'stats'; stats: FleetStats; maxRssKiB: number };

const child = fork(join(here, 'fleet-process.ts'), [], {
  execArgv: ['--import', 'tsx'], env: { ...process.env, BENCH_BMCS: String(bmcCount), BENCH_LATENCY_MS: String(latencyMs) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const next = (type: Msg['type']): Promise<Msg> => new Promise((res, rej) => {
  const onMsg = (m: Msg): void => {
    if (m.type === type) {
      child.off('message', onMsg);
      res(m);
    }
  };
  child.on('message', onMsg);
  child.once('exit', (code) => rej(new Error(`simulator process exited with ${code}`)));
});

const ready = (await next('ready')) as Extract<Msg, { type: 'ready' }>;
process.stderr.write(`simulator: ${ready.bmcs.length} BMCs up, ${latencyMs} ms latency; discovering with concurrency ${concurrency}\n`);
const progress = process.stderr.isTTY
  ? (p: { done: number; total: number }): void => { if (p.done % 50 === 0 || p.done === p.total) process.stderr.write(`\r${p.done}/${p.total}`); }
  : undefined;

const cpuBefore = process.cpuUsage();
const started = process.hrtime.bigint();
const report = await discover({
  targets: ready.bmcs.map((b) => ({ host: b.host, port: b.port, scheme: b.scheme })),
  concurrency,
  timeoutMs: 30_000,
  credentials: new CredentialResolver([{ match: '*', username: ready.username, password: ready.password }], {}),
  logger: pino({ level: 'warn' }),
  onProgress: progress,
});
const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
const cpu = process.cpuUsage(cpuBefore);
if (progress) process.stderr.write('\n');
child.send({ type: 'stats' });
const sim = (await next('stats')) as Extract<Msg, { type: 'stats' }>;
child.send({ type: 'close' });

const requests = sim.stats.requests;
const idealMs = (requests * latencyMs) / concurrency;
const perBmc = sim.stats.requestsPerBmc;
const byVendor: Record<string, { bmcs: number; requests: number }> = {};
ready.bmcs.forEach((b, i) => {
  const v = (byVendor[b.vendor] ??= { bmcs: 0, requests: 0 });
  v.bmcs++;
  v.requests += perBmc[i]!;
});
const figures = {
  bmcs: bmcCount,
  found: report.redfishEndpoints.length,
  nodes: report.hardware.length,
  macs: report.interfaces.length,
  unreachable: report.unreachable.length,
  latencyMs,
  concurrency,
  requests,
  requestsPerBmc: { mean: requests / bmcCount, min: Math.min(...perBmc), max: Math.max(...perBmc), byVendor: Object.fromEntries(Object.entries(byVendor).map(([k, v]) => [k, v.requests / v.bmcs])) },
  wallMs: Math.round(wallMs),
  idealMs: Math.round(idealMs),
  wallOverIdeal: Number((wallMs / idealMs).toFixed(3)),
  maxInFlightAtBmcs: sim.stats.maxInFlight,
  maxInFlightPerBmc: sim.stats.maxInFlightPerBmc,
  peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  // The machine is shared: CPU per request and the load average say whether the client or the
  // neighbours set the pace.
  discoveryCpuMs: Math.round((cpu.user + cpu.system) / 1000),
  discoveryCpuUsPerRequest: Math.round((cpu.user + cpu.system) / requests),
  loadAverage1m: Number(loadavg()[0]!.toFixed(2)),
  cpus: cpus().length,
  simulatorPeakRssMiB: Math.round(sim.maxRssKiB / 1024),
  node: process.version,
  at: new Date().toISOString(),
};
mkdirSync(join(root, 'bench', 'out'), { recursive: true });
writeFileSync(join(root, 'bench', 'out', 'discovery.json'), JSON.stringify(figures, null, 2) + '\n');
process.stdout.write(
  `discovery of ${bmcCount} BMCs (${figures.nodes} nodes, ${figures.macs} MACs, ${figures.unreachable} unreachable), ${latencyMs} ms/request, concurrency ${concurrency}\n`
  + `  wall ${(wallMs / 1000).toFixed(2)} s vs ideal ${(idealMs / 1000).toFixed(2)} s (${requests} requests × ${latencyMs} ms ÷ ${concurrency}): ratio ${figures.wallOverIdeal}\n`
  + `  requests per BMC: mean ${figures.requestsPerBmc.mean.toFixed(1)} (min ${figures.requestsPerBmc.min}, max ${figures.requestsPerBmc.max}); by vendor ${JSON.stringify(figures.requestsPerBmc.byVendor)}\n`
  + `  max in flight at the BMCs ${figures.maxInFlightAtBmcs} (bound ${concurrency}), per BMC ${figures.maxInFlightPerBmc}\n`
  + `  peak RSS: discovery ${figures.peakRssMiB} MiB, simulator ${figures.simulatorPeakRssMiB} MiB\n`
  + `  discovery CPU ${(figures.discoveryCpuMs / 1000).toFixed(1)} s (${figures.discoveryCpuUsPerRequest} µs/request); load average ${figures.loadAverage1m} on ${figures.cpus} cores\n`
  + `  figures written to bench/out/discovery.json\n`,
);
if (report.unreachable.length > 0 || report.redfishEndpoints.length !== bmcCount) process.exitCode = 1;
