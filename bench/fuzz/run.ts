/**
 * bench/fuzz: every parser that faces the site LAN or a BMC, fuzzed with coverage guidance
 * (V8 block coverage through node:inspector). Not part of `npm test`; a short slice of it is
 * (test/unit/fuzz/parsers.test.ts).
 *
 *   node --import tsx bench/fuzz/run.ts [--cases N] [--target dhcp|tftp|http|redfish] [--seed S] [--until HH:MM] [--batch N] [--out DIR]
 *
 * Writes DIR/fuzz.json and the first inputs of any crash or hang to DIR/fuzz-crashes/
 * (DIR is bench/out unless given); exits 1 on any crash or hang.
 */
process.env.SKYBOOT_LOG_LEVEL ??= 'silent';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BlockCoverage } from './coverage.js';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '1000000' },
    target: { type: 'string', multiple: true },
    seed: { type: 'string', default: '1' },
    until: { type: 'string' },
    batch: { type: 'string', default: '500' },
    out: { type: 'string' },
  },
});
const cases = Number(values.cases);
const seed = Number(values.seed);
if (!Number.isInteger(cases) || cases < 1) throw new Error(`--cases: "${values.cases}" is not a positive integer`);
if (!Number.isInteger(seed)) throw new Error(`--seed: "${values.seed}" is not an integer`);
let deadline: number | undefined;
if (values.until) {
  const m = /^(\d\d):(\d\d)$/.exec(values.until);
  if (!m) throw new Error(`--until: "${values.until}" is not HH:MM (UTC)`);
  const d = new Date();
  d.setUTCHours(Number(m[1]), Number(m[2]), 0, 0);
  deadline = d.getTime();
}

const coverage = new BlockCoverage();
coverage.start();
// Loaded after coverage started, so the product's functions carry block counters.
const { TARGETS, REPO_ROOT } = await import('./targets.js');
const { fuzz } = await import('./engine.js');
import type { FuzzTarget } from './targets.js';
type Name = keyof typeof TARGETS;
const names = (values.target ?? Object.keys(TARGETS)) as Name[];
for (const n of names) if (!(n in TARGETS)) throw new Error(`--target: "${n}" is not one of ${Object.keys(TARGETS).join(', ')}`);

const outDir = values.out ?? join(REPO_ROOT, 'bench', 'out');
const crashDir = join(outDir, 'fuzz-crashes');
mkdirSync(outDir, { recursive: true });
const results: Array<Record<string, unknown> & { target: string }> = [];
let failed = false;
for (const name of names) {
  const target = (await TARGETS[name]()) as FuzzTarget<unknown>;
  const r = await fuzz(target, {
    cases, seed, coverage, deadline, batch: Number(values.batch),
    onProgress: (done, paths) => process.stderr.write(`  ${name}: ${done} cases, ${paths} paths\n`),
  });
  await target.close();
  if (r.findings.length) {
    mkdirSync(crashDir, { recursive: true });
    r.findings.forEach((f, i) => {
      writeFileSync(join(crashDir, `${name}-${f.kind}-${i}.bin`), f.input);
      writeFileSync(join(crashDir, `${name}-${f.kind}-${i}.txt`), f.message);
    });
  }
  if (r.crashes || r.hangs) failed = true;
  console.log(`${name.padEnd(8)} cases ${r.cases}${r.cases < cases ? ` (of ${cases}: stopped at --until)` : ''}  crashes ${r.crashes}  hangs ${r.hangs}  `
    + `paths ${r.paths} (seeds ${r.seedPaths})  corpus ${r.corpus}  ${Math.round(r.casesPerSecond)} cases/s  slowest ${r.slowestCaseMs.toFixed(1)} ms  over 1 s once then fast ${r.slowOnce}  ${r.seconds.toFixed(0)} s`);
  console.log(`         outcomes ${JSON.stringify(r.outcomes)}`);
  const { findings, ...figures } = r;
  results.push({ ...figures, date: new Date().toISOString(), seed, findings: findings.map((f) => ({ kind: f.kind, message: f.message.split('\n')[0] })) });
  // Several runs (one per target, side by side) share the file: each replaces its own targets' entries.
  const file = join(outDir, 'fuzz.json');
  const previous = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { results?: Array<{ target: string }> }).results ?? [] : [];
  const merged = [...previous.filter((p) => !results.some((x) => x.target === p.target)), ...results].sort((a, b) => a.target.localeCompare(b.target));
  writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), seed, casesRequested: cases, hangLimitMs: 1000, results: merged }, null, 2) + '\n');
}
coverage.stop();
process.exitCode = failed ? 1 : 0;
