/**
 * bench/console: how fast the web console's overview paints, in Debian's headless Chromium,
 * against the GraphQL IDE page served by the same gateway in the same run.
 *   node --import tsx bench/console/run.ts [--nodes 1000] [--rounds 5]
 * A local stack (DynamoDB Local, s3rver, the local authorization server) with `--nodes` nodes;
 * one login through the provider's page, then per round a reload of each page (warm browser
 * cache, as a person coming back). Prints the median first-contentful-paint (Performance API)
 * of both, their ratio, and the overview's time until every node is counted on screen.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startLocalStack } from '../../local/stack.js';
import { launchChromium, loginThroughProvider } from '../../test/support/chromium.js';
import type { Identity } from '../../functions/shared/identity.js';
import { writeReport } from '../support/report.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const NODES = flag('nodes', 1000);
const ROUNDS = flag('rounds', 5);
const GOAL_MS = 1500;
const say = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const build = spawnSync(process.execPath, [fileURLToPath(new URL('../../tools/ensureSetup.mjs', import.meta.url)), '--console'], { stdio: 'inherit' });
if (build.status !== 0) throw new Error('building the web console failed');

const dataDir = mkdtempSync(join(tmpdir(), 'skyboot-bench-console-'));
const stack = await startLocalStack({ dataDir, port: 0, log: () => undefined });
const admin: Identity = { subject: 'bench', roles: ['admin'], site: null };
say(`seeding ${NODES} nodes`);
for (let s = 0; s < NODES; s += 500) {
  const input = Array.from({ length: Math.min(500, NODES - s) }, (_, k) => {
    const i = s + k;
    return { xname: `x${1000 + Math.floor(i / 512)}c${Math.floor(i / 64) % 8}s${Math.floor(i / 2) % 32}b0n${i % 2}`, nid: i + 1, role: 'COMPUTE', state: ['ON', 'OFF', 'READY'][i % 3] };
  });
  const out = await stack.invoker.invoke({ domain: 'inventory', identity: admin, requestId: 'bench-console', calls: [{ operation: 'upsertComponents', args: { input } }] });
  if (!out.results[0]?.ok) throw new Error(`seeding: ${JSON.stringify(out.results[0])}`);
}

const browser = await launchChromium();
const { page } = browser;
const password = stack.auth.users.find((u) => u.username === 'viewer')!.password;
await page.goto(`${stack.url}/console/`);
await loginThroughProvider(page, 'viewer', password);
await page.waitForSelector('[data-testid="node-total"]');

// Evaluated in the page (a string: the bench's own TypeScript has no DOM types).
const fcp = () => page.evaluate<number>(`new Promise((resolve) => {
  const found = performance.getEntriesByName('first-contentful-paint')[0];
  if (found) return resolve(found.startTime);
  new PerformanceObserver((list) => {
    const e = list.getEntriesByName('first-contentful-paint')[0];
    if (e) resolve(e.startTime);
  }).observe({ type: 'paint', buffered: true });
})`);

const consoleFcp: number[] = [];
const consoleData: number[] = [];
const ideFcp: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  await page.goto(`${stack.url}/console/#/`);
  await page.reload();
  await page.waitForSelector('[data-testid="node-total"][data-done="true"]', { timeout: 120_000 });
  consoleData.push(await page.evaluate<number>('performance.now()'));
  consoleFcp.push(await fcp());
  const total = await page.textContent('[data-testid="node-total"]');
  if (total !== `${NODES.toLocaleString('en')} nodes`) throw new Error(`the overview shows "${total}", not ${NODES} nodes`);
  await page.goto(`${stack.url}/graphql`);
  await page.reload();
  ideFcp.push(await fcp());
}
await browser.close();
await stack.stop();
rmSync(dataDir, { recursive: true, force: true });

const figures = {
  nodes: NODES,
  rounds: ROUNDS,
  consoleOverviewFcpMs: Math.round(median(consoleFcp)),
  consoleOverviewAllNodesCountedMs: Math.round(median(consoleData)),
  ideFcpMs: Math.round(median(ideFcp)),
  fcpRatioConsoleToIde: Number((median(consoleFcp) / median(ideFcp)).toFixed(2)),
  goalMs: GOAL_MS,
  meetsGoal: median(consoleFcp) < GOAL_MS,
};
console.log(`console overview, ${NODES} nodes, median of ${ROUNDS} reloads (warm cache), Chromium headless`);
console.log(`  first-contentful-paint        ${figures.consoleOverviewFcpMs} ms   (goal < ${GOAL_MS} ms: ${figures.meetsGoal ? 'met' : 'MISSED'})`);
console.log(`  every node counted on screen  ${figures.consoleOverviewAllNodesCountedMs} ms`);
console.log(`GraphQL IDE page (peer, same gateway)`);
console.log(`  first-contentful-paint        ${figures.ideFcpMs} ms`);
console.log(`ratio console / IDE (FCP)       ${figures.fcpRatioConsoleToIde}`);
say(`written ${writeReport('console', figures)}`);
