/**
 * `npm run build:cli`: the three bins' programs precompiled into dist/cli/ (ESM, split so code
 * only some commands need, loaded by dynamic import, is parsed only when they run), plus
 * dist/cli/manifest.json naming each bundle's source files, which bin/launch.js checks so a
 * bundle older than any of its sources is never run. tools/ensureSetup.mjs runs this before
 * `npm start` and `npm test` when a bundle is missing or stale.
 */
import { build } from 'esbuild';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NODE_BUNDLE } from '../onprem-agent/deploy/build.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const OUT_DIR = join(root, 'dist', 'cli');

const ENTRIES = {
  skyboot: 'cli/main.ts',
  'skyboot-agent': 'onprem-agent/cli/main.ts',
  'skyboot-slurm-reboot': 'cli/slurmRebootMain.ts',
} as const;

interface Meta {
  inputs: Record<string, { imports: Array<{ path: string }> }>;
  outputs: Record<string, { entryPoint?: string; imports: Array<{ path: string; kind: string }>; inputs: Record<string, unknown> }>;
}

/** Every source the output and the chunks it imports (statically or not) were built from. */
function sourcesOf(meta: Meta, output: string, seen = new Set<string>()): Set<string> {
  if (seen.has(output)) return new Set();
  seen.add(output);
  const out = meta.outputs[output]!;
  const own = Object.keys(out.inputs).filter((i) => !i.includes('node_modules/'));
  const deps = out.imports.filter((i) => meta.outputs[i.path]).flatMap((i) => [...sourcesOf(meta, i.path, seen)]);
  return new Set([...own, ...deps]);
}

export async function buildCli(): Promise<Record<string, { file: string; inputs: string[] }>> {
  // Built aside and swapped in, so a bin starting meanwhile finds the old build or none, never half of one.
  const next = `${OUT_DIR}.next-${process.pid}`;
  const result = await build({
    ...NODE_BUNDLE,
    entryPoints: Object.fromEntries(Object.entries(ENTRIES).map(([name, entry]) => [name, join(root, entry)])),
    outdir: next,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    absWorkingDir: root,
  });
  const meta = result.metafile as unknown as Meta;
  const bundles: Record<string, { file: string; inputs: string[] }> = {};
  for (const [output, info] of Object.entries(meta.outputs)) {
    const name = Object.entries(ENTRIES).find(([, entry]) => info.entryPoint === entry)?.[0];
    if (!name) continue;
    // Dependencies change through the lock file, which is older than node_modules after `npm ci`.
    const inputs = [...sourcesOf(meta, output), 'package-lock.json', 'package.json'].sort();
    bundles[name] = { file: relative(next, join(root, output)), inputs };
  }
  writeFileSync(join(next, 'manifest.json'), `${JSON.stringify({ bundles }, null, 2)}\n`);
  const old = `${OUT_DIR}.old-${process.pid}`;
  if (existsSync(OUT_DIR)) renameSync(OUT_DIR, old);
  renameSync(next, OUT_DIR);
  rmSync(old, { recursive: true, force: true });
  return bundles;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const bundles = await buildCli();
  for (const [name, b] of Object.entries(bundles)) process.stdout.write(`dist/cli/${b.file} (${name}, ${b.inputs.length} sources)\n`);
}
