/**
 * bench/pxe http: the agent's HTTP boot service against nginx serving the same bytes as static
 * files, side by side in one run on this machine.
 * - boot scripts: wrk requests/s for one MAC's script (ours renders it from the snapshot per
 *   request; nginx serves the rendered bytes from a file);
 * - artifacts: single-stream throughput of a 256 MiB artifact with curl (ours streams through
 *   fs.createReadStream + pipeline, nginx uses sendfile), after one warm-up read each.
 * Run: node --import tsx bench/pxe/http.ts [--artifact-mib 256] [--seconds 5]
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { contentHash, type SiteSnapshot, type SnapshotContent } from '../../schema/siteSnapshot.js';
import { ArtifactCache } from '../../onprem-agent/cache/artifactCache.js';
import { createAgentHttpServer } from '../../onprem-agent/pxe/http/server.js';
import { SnapshotIndex, saveSnapshot } from '../../onprem-agent/sync/snapshotStore.js';
import { staticNginxConf } from '../support/nginx.js';
import { writeReport } from '../support/report.js';
import { wrk } from '../support/wrk.js';

const run = promisify(execFile);
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const ARTIFACT_MIB = arg('artifact-mib', 256);
const SECONDS = arg('seconds', 5);
const NODES = 10_000;

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function writeArtifact(path: string, mib: number): Promise<string> {
  const h = createHash('sha256');
  const out = createWriteStream(path);
  const chunk = randomBytes(1024 * 1024);
  for (let i = 0; i < mib; i++) {
    const c = Buffer.from(chunk);
    c[0] = i & 255; // distinct chunks; a copy, since the previous write may still be queued
    h.update(c);
    if (!out.write(c)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end(() => r()).once('error', j));
  return h.digest('hex');
}

async function curlSpeed(url: string): Promise<number> {
  const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{speed_download} %{http_code}', url]);
  const [speed, code] = stdout.trim().split(' ');
  if (code !== '200') throw new Error(`curl ${url}: HTTP ${code}`);
  return Number(speed);
}

async function bestOf(n: number, f: () => Promise<number>): Promise<number> {
  let best = 0;
  for (let i = 0; i < n; i++) best = Math.max(best, await f());
  return best;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-pxe-http-'));
  // nginx's worker runs as an unprivileged user: it must be able to read the served tree.
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  const www = join(dir, 'www');
  mkdirSync(data, { recursive: true });
  const cache = await new ArtifactCache(join(data, 'cache')).init();
  process.stderr.write(`writing a ${ARTIFACT_MIB} MiB artifact...\n`);
  const tmpArtifact = join(dir, 'artifact.bin');
  const sha = await writeArtifact(tmpArtifact, ARTIFACT_MIB);
  const { renameSync, linkSync } = await import('node:fs');
  renameSync(tmpArtifact, cache.pathOf(sha));

  const content: SnapshotContent = {
    site: 'bench',
    siteDomain: null,
    nodes: Array.from({ length: NODES }, (_, i) => ({
      xname: `x1000c${Math.floor(i / 64)}s${i % 64}b0n0`,
      nid: i + 1,
      role: 'COMPUTE',
      subRole: null,
      arch: 'X86' as const,
      groups: ['compute'],
      interfaces: [{ mac: `02:00:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, ipAddresses: [], network: 'hsn' }],
      boot: { configId: 'bc-bench', matchedSelector: 'role:COMPUTE', imageId: null, kernel: sha, initrd: sha, rootfs: null, kernelParameters: 'console=ttyS0,115200 ip=dhcp quiet', rootfsProvider: null },
      cloudInit: null,
    })),
    discovery: [],
    artifacts: [{ sha256: sha, size: ARTIFACT_MIB * 1024 * 1024, type: 'KERNEL', status: 'READY', url: null, urlExpiresAt: null }],
    images: [],
    redfishEndpoints: [],
  };
  const snap: SiteSnapshot = { ...content, revision: 1, unchanged: false, contentHash: contentHash(content), generatedAt: new Date().toISOString() };
  const index = new SnapshotIndex(await saveSnapshot(data, snap));
  const ourPort = await freePort();
  const base = `http://127.0.0.1:${ourPort}`;
  const server = createAgentHttpServer({
    index: () => index,
    cache,
    outbox: { enqueue: async () => undefined },
    status: async () => ({}),
    advertiseUrl: base,
  });
  await new Promise<void>((r) => server.listen(ourPort, '127.0.0.1', () => r()));

  // nginx serves the same bytes: the rendered script as a file, the artifact at the same path.
  const mac = '02:00:00:00:10:01';
  const scriptUrl = `${base}/boot/v1/bootscript?mac=${mac}`;
  const script = await (await fetch(scriptUrl)).text();
  mkdirSync(join(www, 'boot', 'v1'), { recursive: true });
  mkdirSync(join(www, 'artifacts', 'sha256'), { recursive: true });
  writeFileSync(join(www, 'boot', 'v1', 'bootscript'), script);
  linkSync(cache.pathOf(sha), join(www, 'artifacts', 'sha256', sha));
  const nginxPort = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, staticNginxConf({ dir, root: www, listen: `127.0.0.1:${nginxPort}`, workers: 1, connections: 1024 }));
  const nginx = spawn('nginx', ['-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const nginxBase = `http://127.0.0.1:${nginxPort}`;
  for (let i = 0; ; i++) {
    const status = await fetch(`${nginxBase}/boot/v1/bootscript?mac=${mac}`).then((r) => r.status, (e: Error) => e.message);
    if (status === 200) break;
    if (i > 50) throw new Error(`nginx did not serve the script: ${status} (see ${dir}/nginx-error.log)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const nginxScript = await (await fetch(`${nginxBase}/boot/v1/bootscript?mac=${mac}`)).text();
  if (nginxScript !== script) throw new Error('nginx does not serve the same boot-script bytes');

  try {
    process.stderr.write(`boot scripts: wrk ${SECONDS}s, 64 connections, each server...\n`);
    // One second each first: JIT warm-up for ours, page cache for both.
    await wrk(scriptUrl, { seconds: 1, connections: 16 });
    await wrk(`${nginxBase}/boot/v1/bootscript?mac=${mac}`, { seconds: 1, connections: 16 });
    const ours = await wrk(scriptUrl, { seconds: SECONDS, connections: 64, threads: 2 });
    const theirs = await wrk(`${nginxBase}/boot/v1/bootscript?mac=${mac}`, { seconds: SECONDS, connections: 64, threads: 2 });
    process.stderr.write(`artifact: ${ARTIFACT_MIB} MiB single stream, best of 3...\n`);
    await curlSpeed(`${base}/artifacts/sha256/${sha}`); // first use hashes the file (verification)
    await curlSpeed(`${nginxBase}/artifacts/sha256/${sha}`);
    const ourSpeed = await bestOf(3, () => curlSpeed(`${base}/artifacts/sha256/${sha}`));
    const nginxSpeed = await bestOf(3, () => curlSpeed(`${nginxBase}/artifacts/sha256/${sha}`));
    const figures = {
      machine: { cpus: (await import('node:os')).cpus().length },
      bootScript: {
        bytes: Buffer.byteLength(script),
        snapshotNodes: NODES,
        skyboot: ours,
        nginxStaticFile: theirs,
        ratio: ours.requestsPerSecond / theirs.requestsPerSecond,
      },
      artifact: {
        mib: ARTIFACT_MIB,
        skybootMiBps: ourSpeed / 1048576,
        nginxSendfileMiBps: nginxSpeed / 1048576,
        ratio: ourSpeed / nginxSpeed,
      },
    };
    const file = writeReport('pxe-http', figures);
    const f = (n: number) => n.toFixed(0);
    process.stdout.write(
      [
        `                      skyboot-agent     nginx   ratio`,
        `boot script req/s   ${f(ours.requestsPerSecond).padStart(13)} ${f(theirs.requestsPerSecond).padStart(9)}   ${figures.bootScript.ratio.toFixed(2)}`,
        `  p99 latency ms    ${ours.p99ms.toFixed(2).padStart(13)} ${theirs.p99ms.toFixed(2).padStart(9)}`,
        `artifact MiB/s      ${f(figures.artifact.skybootMiBps).padStart(13)} ${f(figures.artifact.nginxSendfileMiBps).padStart(9)}   ${figures.artifact.ratio.toFixed(2)}`,
        `written to ${file}`,
        '',
      ].join('\n'),
    );
  } finally {
    nginx.kill('SIGTERM');
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
