/**
 * bench/scale: a large site end to end on DynamoDB Local and s3rver, through the test gateway's
 * real (limit-enforcing) HTTP entry and invoker.
 *   node --import tsx bench/scale/run.ts [--nodes 100000] [--upsert 5000]
 * Prints and writes (bench/out/scale.json): the CLI import (time, items/s, consumed write
 * capacity units per component, reads and transactional writes, against the floor of 2: one
 * transactional write of one ≤ 1 KB item), the snapshot build (time,
 * compressed size), an agent's sync from empty (time, peak RSS, against 10 s and 512 MB) and after
 * a one-node change (bytes, time, against the whole content), components(filter: {role: COMPUTE,
 * state: READY}, first: 100) (latency, items read per item returned), and one upsertComponents
 * of --upsert nodes against API Gateway's 29 s.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import globalSetup from '../../test/support/awsEndpoints.js';
import { startTestCloud } from '../../test/integration/sync/cloud.js';
import { siteFixture } from '../../test/integration/sync/siteFixture.js';
import { graphqlClient } from '../../cli/client.js';
import { runCli } from '../../cli/program.js';
import { clients } from '../../functions/shared/clients.js';
import { SNAPSHOT_QUERY } from '../../onprem-agent/sync/cloudClient.js';
import type { SiteSnapshotAnswer } from '../../schema/snapshotDelta.js';
import { meterCapacity } from '../gateway/capacity.js';
import { numberArg } from '../support/args.js';
import { writeReport } from '../support/report.js';

const NODES = numberArg('nodes', 100_000);
const UPSERT = numberArg('upsert', 5_000);
const API_GATEWAY_TIMEOUT_MS = 29_000;
const say = (s: string) => process.stderr.write(`${s}\n`);
const SITE = 'bench';
const xnameFor = (i: number) => `x${3000 + Math.floor(i / 2048)}c${Math.floor(i / 256) % 8}s${Math.floor(i / 4) % 64}b0n${i % 4}`;

await globalSetup();
const cloud = await startTestCloud();
const gw = cloud.gw;
const fx = await siteFixture(gw, SITE);
const dir = mkdtempSync(join(tmpdir(), 'skyboot-bench-scale-'));
const meter = meterCapacity(clients().ddb);
const gql = graphqlClient({ url: `${gw.url}/graphql`, token: gw.tokens.admin });

// 1. Import through the CLI: every 2nd node COMPUTE, every 10th READY (5 % both).
const csv = join(dir, 'nodes.csv');
const rows = ['xname,role,arch,state'];
for (let i = 0; i < NODES; i++) rows.push(`${xnameFor(i)},${i % 2 ? 'SERVICE' : 'COMPUTE'},X86,${i % 10 === 0 ? 'READY' : 'OFF'}`);
writeFileSync(csv, `${rows.join('\n')}\n`);
say(`importing ${NODES} components through skyboot component import`);
meter.reset();
let t = performance.now();
const imported = await runCli(['node', 'skyboot', 'component', 'import', csv, '--site', SITE, '--batch', '1000', '--json'], { gql, out: (l) => say(l), err: (l) => say(l), tty: false });
const importMs = performance.now() - t;
if (imported !== 0) throw new Error(`import exited ${imported}`);
const importUnitsPerComponent = meter.units / NODES;

// 2. The snapshot build: the first agent pull after the import builds the revision.
const agentToken = join(dir, 'agent.token');
writeFileSync(agentToken, fx.agentToken);
/**
 * A pull as the agent makes it, again while the answer is UNAVAILABLE (the first build still
 * running off the request path) or still the revision it had (a build slower than the pull's
 * wait): so the time measured is until the new revision is there.
 */
const pull = async (since: number | null, expectChange = false) => {
  for (;;) {
    const r = await gw.gql<{ siteSnapshot: SiteSnapshotAnswer }>(SNAPSHOT_QUERY, { since }, fx.agentToken);
    if (r.errors?.every((e) => e.extensions?.code === 'UNAVAILABLE')) continue;
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    if (expectChange && r.data!.siteSnapshot.unchanged) continue;
    return r.data!.siteSnapshot;
  }
};
say('building the snapshot');
t = performance.now();
const built = await pull(null);
const buildMs = performance.now() - t;
t = performance.now();
const again = await pull(built.revision);
const unchangedMs = performance.now() - t;

// 3. An agent (own process) syncs from empty, then after a one-node change.
const agentDir = join(dir, 'agent');
// Asynchronous on purpose: the gateway answering the agent runs in this process, so a blocking
// spawn would freeze it and the agent would time out waiting for its own snapshot.
const agentSync = async () =>
  JSON.parse((await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/scale/agentSync.ts', gw.url, agentToken, agentDir], { encoding: 'utf8', maxBuffer: 1 << 20 })).stdout) as {
    syncMs: number; totalMs: number; loadMs: number; maxRssMiB: number; nodes: number; transfer: { mode: string; bytes: number } };
mkdirSync(agentDir, { recursive: true });
say('agent sync from empty');
const fromEmpty = await agentSync();
await fx.setBoot({ selector: { xnames: [xnameFor(2)] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 bench=one-node' });
say('one-node change: build, then agent sync');
t = performance.now();
const changed = await pull(built.revision, true);
const changeBuildMs = performance.now() - t;
const afterChange = await agentSync();

// 4. A selective filter: latency and items read per item returned.
const FILTER = `query { components(filter: { role: COMPUTE, state: READY, site: "${SITE}" }, first: 100) { edges { node { xname } } } }`;
const lat: number[] = [];
let returned = 0;
meter.reset();
for (let i = 0; i < 20; i++) {
  t = performance.now();
  const r = await gql<{ components: { edges: unknown[] } }>(FILTER);
  lat.push(performance.now() - t);
  returned += r.components.edges.length;
}
lat.sort((a, b) => a - b);
const readPerReturned = meter.scanned / returned;

// 5. One upsertComponents call of UPSERT nodes.
const input = Array.from({ length: UPSERT }, (_, i) => ({ xname: xnameFor(NODES + i), site: SITE, role: 'COMPUTE', arch: 'X86' }));
say(`one upsertComponents of ${UPSERT}`);
t = performance.now();
const up = await gql<{ upsertComponents: { created: number; failed: number } }>(`mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { created failed } }`, { in: input });
const upsertMs = performance.now() - t;

const figures = {
  nodes: NODES,
  import: { ms: Math.round(importMs), itemsPerSecond: Math.round(NODES / (importMs / 1000)), capacityUnitsPerComponent: Number(importUnitsPerComponent.toFixed(2)), floorUnitsPerComponent: 2 },
  snapshot: { buildMs: Math.round(buildMs), compressedBytes: built.content!.bytes, unchangedPullMs: Math.round(unchangedMs), unchanged: again.unchanged },
  agentFromEmpty: { ms: Math.round(fromEmpty.totalMs), boundMs: 10_000, maxRssMiB: Math.round(fromEmpty.maxRssMiB), boundRssMiB: 512, bytes: fromEmpty.transfer.bytes, nodes: fromEmpty.nodes },
  oneNodeChange: { buildMs: Math.round(changeBuildMs), agentMs: Math.round(afterChange.totalMs), agentSyncMs: Math.round(afterChange.syncMs), mode: afterChange.transfer.mode, bytes: afterChange.transfer.bytes, wholeContentBytes: changed.content!.bytes, deltas: changed.deltas?.length ?? 0 },
  filter: { p50Ms: Number(lat[10]!.toFixed(1)), p99Ms: Number(lat[19]!.toFixed(1)), returnedPerCall: returned / 20, itemsReadPerReturned: Number(readPerReturned.toFixed(2)) },
  upsert: { nodes: UPSERT, ms: Math.round(upsertMs), apiGatewayMs: API_GATEWAY_TIMEOUT_MS, ratio: Number((upsertMs / API_GATEWAY_TIMEOUT_MS).toFixed(2)), created: up.upsertComponents.created },
};
console.table(Object.fromEntries(Object.entries(figures).filter(([, v]) => typeof v === 'object')));
say(JSON.stringify(figures, null, 2));
say(`written to ${writeReport('scale', figures)}`);
await cloud.close();
rmSync(dir, { recursive: true, force: true });
for (const e of globalThis.__skybootEmulators ?? []) await e.stop();
