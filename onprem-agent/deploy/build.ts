/**
 * `npm run build:agent`: the agent as one ESM file, dist/skyboot-agent.mjs, with every dependency
 * inlined, so a site server needs only Node.js (>= 20.6) and this file. Node built-ins stay
 * external; the banner gives bundled CommonJS dependencies a real `require`.
 */
import { build, type BuildOptions } from 'esbuild';
import { readFileSync } from 'node:fs';
import { chmod, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * What every bundle of ours shares (this one and `npm run build:cli`'s): Node built-ins external,
 * a real `require` for bundled CommonJS dependencies, and the version inlined, since a bundle
 * installed alone has no package.json beside it (schema/version.ts).
 */
export const NODE_BUNDLE = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  legalComments: 'none',
  logLevel: 'warning',
  define: { __SKYBOOT_VERSION__: JSON.stringify((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version) },
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __skybootCreateRequire } from 'node:module';",
      'const require = __skybootCreateRequire(import.meta.url);',
    ].join('\n'),
  },
} as const satisfies BuildOptions;

export async function buildAgent(outfile = join(root, 'dist', 'skyboot-agent.mjs')): Promise<{ outfile: string; bytes: number }> {
  await build({
    ...NODE_BUNDLE,
    entryPoints: [join(root, 'onprem-agent', 'cli', 'main.ts')],
    outfile,
    minify: false,
    sourcemap: false,
  });
  await chmod(outfile, 0o755);
  return { outfile, bytes: (await stat(outfile)).size };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outfile, bytes } = await buildAgent(process.argv[2]);
  process.stdout.write(`${outfile} (${(bytes / 1024 / 1024).toFixed(1)} MiB)\n`);
}
