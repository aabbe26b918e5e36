/**
 * `npm run build:cli`: the bundles in dist/cli run the same programs as the TypeScript (version,
 * help, completion from the same definitions, a real command), from any directory; the bins take
 * a bundle only while no source of it is newer, and then start much faster than through tsx.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshBundle } from '../../../bin/launch.js';
import { buildCli, OUT_DIR } from '../../../tools/buildCli.js';
import { freeTcpPort } from '../../support/ports.js';
import { packageVersion } from '../../../schema/version.js';

const root = process.cwd();
const elsewhere = mkdtempSync(join(tmpdir(), 'skyboot-cli-bundle-'));
afterAll(() => rmSync(elsewhere, { recursive: true, force: true }));

function node(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; ms: number } {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: elsewhere, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('CLI bundles (dist/cli)', () => {
  let bundles: Awaited<ReturnType<typeof buildCli>>;
  beforeAll(async () => {
    bundles = await buildCli();
  });

  it('run the same programs as the sources, from a directory outside the repository', async () => {
    const agent = join(OUT_DIR, bundles['skyboot-agent']!.file);
    const skyboot = join(OUT_DIR, bundles.skyboot!.file);
    // The version is inlined: no package.json is beside a bundle.
    expect(node([skyboot, '--version']).stdout.trim()).toBe(packageVersion());
    expect(node([agent, '--version']).stdout.trim()).toBe(packageVersion());
    for (const [bundle, bin] of [[skyboot, 'skyboot'], [agent, 'skyboot-agent']] as const) {
      const fromSources = node([join(root, 'bin', `${bin}.js`), 'completion', 'bash'], { SKYBOOT_NO_BUNDLE: '1' });
      expect(node([bundle, 'completion', 'bash']).stdout).toBe(fromSources.stdout);
    }
    const port = await freeTcpPort();
    const status = node([agent, 'status', '--http', `127.0.0.1:${port}`, '--data-dir', join(elsewhere, 'data'), '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ agent: { running: false, dataDir: join(elsewhere, 'data') } });
    const list = node([skyboot, 'component', 'list'], { SKYBOOT_URL: `http://127.0.0.1:${port}/graphql`, SKYBOOT_TOKEN: 'none', XDG_CONFIG_HOME: elsewhere });
    expect(list.status).toBe(1);
    expect(list.stderr).toMatch(/^skyboot: /);
  });

  it('are used by the bins while fresh, which then start far faster than through tsx', () => {
    expect(freshBundle('skyboot')).not.toBeNull();
    expect(freshBundle('skyboot-agent')).not.toBeNull();
    for (const bin of ['skyboot', 'skyboot-agent']) {
      const bundled: number[] = [];
      const tsx: number[] = [];
      // Taking turns, so the machine's load falls on both alike.
      for (let i = 0; i < 5; i++) {
        bundled.push(node([join(root, 'bin', `${bin}.js`), '--version']).ms);
        tsx.push(node([join(root, 'bin', `${bin}.js`), '--version'], { SKYBOOT_NO_BUNDLE: '1' }).ms);
      }
      expect({ bin, faster: median(bundled) < 0.7 * median(tsx), bundled: median(bundled), tsx: median(tsx) }).toMatchObject({ bin, faster: true });
    }
  });

  it('are not used once a source of theirs is newer', () => {
    const source = join(root, 'onprem-agent', 'config.ts');
    const { atime, mtime } = statSync(source);
    try {
      const later = new Date(Date.now() + 60_000);
      utimesSync(source, later, later);
      expect(freshBundle('skyboot-agent')).toBeNull();
      // skyboot does not include the agent's config: its bundle stays in use.
      expect(freshBundle('skyboot')).not.toBeNull();
      expect(node([join(root, 'bin', 'skyboot-agent.js'), '--version']).stdout.trim()).toBe(packageVersion());
    } finally {
      utimesSync(source, atime, mtime);
    }
    expect(freshBundle('skyboot-agent')).not.toBeNull();
  });
});
