/**
 * bench/rolling: the agent's rollout operator rolling a REBOOT session over a simulated site.
 *   node --import tsx bench/rolling/run.ts [--nodes 1000] [--max-concurrent 50] [--boot-delay 20]
 * The site is the rollout tests' (test/integration/orchestration/rollingSite.ts): the local cloud
 * (DynamoDB Local, s3rver, the test gateway's HTTP entry), one simulated BMC and OS per node on its
 * own 127.77.x.y address, the inventory entered through GraphQL in bulk (upsertRedfishEndpoints,
 * upsertComponents, one group), the BMC account through `skyboot-agent discover`, and a real agent
 * (sync, HTTP boot, Redfish power, rollout operator at its default interval).
 * Prints and writes (bench/out/rolling.json): wall time from createBootSession to COMPLETE against
 * the ideal bound nodes ÷ window × boot delay, the peak number of nodes out of service at once by
 * the simulator's record (power-off to the heartbeat with the new token; at most the window), the
 * agent's requests to the gateway per node, and the process's peak RSS (cloud, agent and simulator
 * share this one process).
 */
import { channel } from 'node:diagnostics_channel';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import globalSetup from '../../test/support/awsEndpoints.js';
import { maxOverlap, outOfService, startRollingSite, type Interval } from '../../test/integration/orchestration/rollingSite.js';
import { numberArg } from '../support/args.js';
import { writeReport } from '../support/report.js';

const NODES = numberArg('nodes', 1000);
const WINDOW = numberArg('max-concurrent', 50);
const BOOT_DELAY_S = numberArg('boot-delay', 20);
// An idle keep-alive socket to the gateway can be reset under this load (ECONNRESET): the bench's own reads retry.
async function retried<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= 2) throw err;
    }
  }
}
const say = (s: string) => process.stderr.write(`${new Date().toISOString()} ${s}\n`);

let peakRss = process.memoryUsage().rss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 500);

await globalSetup();
say(`starting the cloud, ${NODES} simulated nodes and the agent`);
let t = performance.now();
const site = await startRollingSite({ site: 'bench', count: NODES, bootDelayMs: BOOT_DELAY_S * 1000 });
const setupMs = performance.now() - t;
await site.putTemplate('to-b', site.imageB, 'console=ttyS0');

// Requests at the gateway's HTTP entry, told apart by bearer token: the operator's (this bench's
// own session polls) and every other (the agent's client-credentials token).
const gwPort = Number(new URL(site.cloud.gw.url).port);
const operatorAuth = `Bearer ${site.cloud.gw.tokens.operator}`;
const counts = { agent: 0, bench: 0 };
let counting = false;
channel('http.server.request.start').subscribe((m) => {
  const { request, server } = m as { request: IncomingMessage; server: Server };
  if (!counting || (server.address() as AddressInfo | null)?.port !== gwPort) return;
  if (request.headers.authorization === operatorAuth) counts.bench++;
  else counts.agent++;
});

say(`REBOOT session: ${NODES} nodes, maxConcurrent ${WINDOW}, boot delay ${BOOT_DELAY_S} s`);
const idealMs = (NODES / WINDOW) * BOOT_DELAY_S * 1000;
counting = true;
const t0 = Date.now();
t = performance.now();
const s = await site.createSession({ template: 'to-b', operation: 'REBOOT', maxConcurrent: WINDOW, bootTimeoutSeconds: BOOT_DELAY_S + 120 });
// Polled once a second: this bench's own requests stay few beside the agent's.
const timeoutMs = idealMs * 4 + 300_000;
let last = s;
for (let i = 0; last.status === 'RUNNING'; i++) {
  if (performance.now() - t > timeoutMs) throw new Error(`session ${s.id} still RUNNING after ${timeoutMs} ms: ${JSON.stringify(last.counts)}`);
  await new Promise((r) => setTimeout(r, 1000));
  last = await retried(() => site.session(s.id));
  if (i % 30 === 0) say(`session ${last.status} ${JSON.stringify(last.counts)}`);
}
const wallMs = performance.now() - t;
counting = false;
if (last.status !== 'COMPLETE' || last.counts.succeeded !== NODES) throw new Error(`session ended ${last.status} (${last.statusReason ?? ''}): ${JSON.stringify(last.counts)}`);

// Out of service by the simulator's clock: each node's power-off to its heartbeat carrying the token it was last served.
const intervals: Interval[] = [];
for (const n of site.nodes) {
  const r = site.record(n);
  const { interval } = r.lastToken ? outOfService(n.xname, r, t0, r.lastToken) : { interval: null };
  if (!interval) throw new Error(`the simulator has no power-off and heartbeat on the new token for ${n.xname}`);
  intervals.push(interval);
}
const records = await retried(() => site.sessionNodes(s.id));
const bySession = maxOverlap(records.map((r) => ({ from: Date.parse(r.startedAt!), to: Date.parse(r.endedAt!) })));
const outMs = intervals.map((i) => i.to - i.from).sort((a, b) => a - b);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
clearInterval(rssTimer);

const figures = {
  nodes: NODES,
  maxConcurrent: WINDOW,
  bootDelaySeconds: BOOT_DELAY_S,
  setupSeconds: Number((setupMs / 1000).toFixed(1)),
  wallSeconds: Number((wallMs / 1000).toFixed(1)),
  idealSeconds: idealMs / 1000,
  ratio: Number((wallMs / idealMs).toFixed(3)),
  peakOutOfService: maxOverlap(intervals),
  peakInProgressBySession: bySession,
  outOfServiceSeconds: { p50: Number((outMs[Math.floor(outMs.length / 2)]! / 1000).toFixed(1)), max: Number((outMs[outMs.length - 1]! / 1000).toFixed(1)) },
  agentRequestsPerNode: Number((counts.agent / NODES).toFixed(2)),
  agentRequests: counts.agent,
  benchPollRequests: counts.bench,
  peakRssMiB: Math.round(peakRss / 2 ** 20),
};
console.table(figures);
say(`written to ${writeReport('rolling', figures)}`);
if (figures.peakOutOfService > WINDOW) throw new Error(`${figures.peakOutOfService} nodes out of service at once, above maxConcurrent ${WINDOW}`);
await site.close();
for (const e of globalThis.__skybootEmulators ?? []) await e.stop();
