/**
 * bench/cli: start-up time of both CLIs, against `node -e 0` in the same run.
 *   node --import tsx bench/cli/run.ts [--runs 15]
 * Each case is a fresh process, wall clock from spawn to exit; the cases take turns run by run,
 * so a change in the machine's load falls on all of them alike. Cases: `--version`, `--help`,
 * and one real command against nothing (skyboot: `component list` against a closed port;
 * skyboot-agent: `status` with no agent and an empty data dir), each through the bundle from
 * `npm run build:cli` (built first if missing or stale), and `--version` through tsx
 * (SKYBOOT_NO_BUNDLE=1), the path without a build. Prints medians, the difference to
 * `node -e 0`, and the 1-minute load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeTcpPort } from '../../test/support/ports.js';
import { writeReport } from '../support/report.js';
import { buildCli } from '../../tools/buildCli.js';
import { freshBundle } from '../../bin/launch.js';

const argv = process.argv.slice(2);
const RUNS = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 15;
const GOAL_MS = 500;
const root = fileURLToPath(new URL('../..', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!freshBundle('skyboot') || !freshBundle('skyboot-agent')) {
  process.stderr.write('building dist/cli (npm run build:cli)\n');
  await buildCli();
}

const closed = await freeTcpPort();
const dataDir = mkdtempSync(join(tmpdir(), 'skyboot-bench-cli-'));
const bin = (name: string): string => join(root, 'bin', `${name}.js`);
// Nothing listens there: the command runs its whole path up to the refused connection.
const nothing = { SKYBOOT_URL: `http://127.0.0.1:${closed}/graphql`, SKYBOOT_TOKEN: 'none', XDG_CONFIG_HOME: dataDir };

interface Case { name: string; args: string[]; env?: Record<string, string>; exit: number }
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'], exit: 0 },
  { name: 'skyboot --version', args: [bin('skyboot'), '--version'], exit: 0 },
  { name: 'skyboot --help', args: [bin('skyboot'), '--help'], exit: 0 },
  { name: 'skyboot component list (no API)', args: [bin('skyboot'), 'component', 'list'], env: nothing, exit: 1 },
  { name: 'skyboot-agent --version', args: [bin('skyboot-agent'), '--version'], exit: 0 },
  { name: 'skyboot-agent --help', args: [bin('skyboot-agent'), '--help'], exit: 0 },
  { name: 'skyboot-agent status (no agent)', args: [bin('skyboot-agent'), 'status', '--http', `127.0.0.1:${closed}`, '--data-dir', dataDir, '--json'], exit: 0 },
  { name: 'skyboot --version (tsx, no bundle)', args: [bin('skyboot'), '--version'], env: { SKYBOOT_NO_BUNDLE: '1' }, exit: 0 },
  { name: 'skyboot-agent --version (tsx, no bundle)', args: [bin('skyboot-agent'), '--version'], env: { SKYBOOT_NO_BUNDLE: '1' }, exit: 0 },
];

const loadBefore = loadavg()[0]!;
const times = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const c of cases) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, c.args, { cwd: root, env: { ...process.env, ...c.env }, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== c.exit) throw new Error(`${c.name}: exit ${r.status}, expected ${c.exit}: ${r.stderr}`);
    times.get(c.name)!.push(ms);
  }
}
const loadAfter = loadavg()[0]!;
rmSync(dataDir, { recursive: true, force: true });

const baseline = median(times.get('node -e 0')!);
const rows = cases.map((c) => {
  const m = median(times.get(c.name)!);
  return { case: c.name, medianMs: Math.round(m), overNodeMs: Math.round(m - baseline), ratio: Number((m / baseline).toFixed(2)), underGoal: m < GOAL_MS };
});
process.stdout.write(`CLI start-up, median of ${RUNS} fresh processes each (${cpus().length} cores, load average 1 min ${loadBefore.toFixed(2)} before, ${loadAfter.toFixed(2)} after)\n`);
process.stdout.write(`${'case'.padEnd(42)}${'median'.padStart(9)}${'- node'.padStart(9)}${'ratio'.padStart(8)}\n`);
for (const r of rows) process.stdout.write(`${r.case.padEnd(42)}${`${r.medianMs} ms`.padStart(9)}${`${r.overNodeMs} ms`.padStart(9)}${`${r.ratio}×`.padStart(8)}${r.case === 'node -e 0' || r.underGoal ? '' : `  over ${GOAL_MS} ms`}\n`);
const file = writeReport('cli', { runs: RUNS, cores: cpus().length, loadAverage1m: { before: Number(loadBefore.toFixed(2)), after: Number(loadAfter.toFixed(2)) }, goalMs: GOAL_MS, rows });
process.stdout.write(`figures written to ${file}\n`);
