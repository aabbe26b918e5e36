#!/usr/bin/env node
// Runs before `npm start` and `npm test` so both work on a fresh clone: installs the npm
// dependencies when node_modules is missing or older than the lock file and, for the tests,
// the Debian packages listed in .ci/apt-packages.txt (as root; otherwise it names them), and
// the web console's build (console/dist) when it is missing or older than its sources, and the
// CLIs' bundles (dist/cli, npm run build:cli) when one is missing or older than a source of it.
// Plain JavaScript: it has to run before any dependency exists.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const want = new Set(process.argv.slice(2));

function npmDeps() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  // `npm ci`: exactly the committed lock, the same install as .ci/run.
  process.stderr.write('[setup] installing npm dependencies (npm ci, the committed lock)\n');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function aptPackages() {
  const list = readFileSync(join(root, '.ci', 'apt-packages.txt'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const missing = list.filter((p) => spawnSync('dpkg', ['-s', p], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    process.stderr.write(`[setup] the tests need these Debian packages, missing here: ${missing.join(' ')}\n[setup] install them as root (sudo apt-get install ${missing.join(' ')}) or run .ci/run\n`);
    process.exit(1);
  }
  process.stderr.write(`[setup] installing Debian packages: ${missing.join(' ')}\n`);
  // Keep nginx, dnsmasq and tftpd-hpa from starting services on the host's interfaces.
  const policy = '/usr/sbin/policy-rc.d';
  const created = !existsSync(policy);
  if (created) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
  } finally {
    if (created) rmSync(policy, { force: true });
  }
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

export function consoleBuild() {
  const dir = join(root, 'console');
  const built = join(dir, 'dist', 'index.html');
  const sources = [join(dir, 'src'), join(dir, 'index.html'), join(dir, 'vite.config.js'), join(root, 'package-lock.json')];
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newestMtime))) return;
  process.stderr.write('[setup] building the web console (npm run build:console)\n');
  const r = spawnSync('npm', ['run', '--silent', 'build:console'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** The bins run dist/cli when it is fresh (bin/launch.js decides, by the same check) and tsx otherwise. */
export async function cliBuild() {
  const { freshBundle } = await import('../bin/launch.js');
  if (['skyboot', 'skyboot-agent', 'skyboot-slurm-reboot'].every((name) => freshBundle(name))) return;
  process.stderr.write('[setup] building the CLI bundles (npm run build:cli)\n');
  const r = spawnSync('npm', ['run', '--silent', 'build:cli'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (want.has('--deps')) npmDeps();
if (want.has('--cli')) await cliBuild();
if (want.has('--apt')) aptPackages();
if (want.has('--console')) consoleBuild();
