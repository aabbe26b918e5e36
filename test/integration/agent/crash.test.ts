/**
 * kill -9 at random instants: during snapshot writes and during artifact downloads, 20 times
 * each. After every kill the stored snapshot is whole (parses, its hash matches its content,
 * its revision is one the child reached), and every file in the cache's sha256/ directory has
 * the digest it is named by. Downloads resume from the partial file (Range requests) and finish.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { contentHash, type SnapshotContent } from '../../../schema/siteSnapshot.js';
import { ArtifactCache, sha256File } from '../../../onprem-agent/cache/artifactCache.js';
import { loadSnapshot, removeStaleTempFiles } from '../../../onprem-agent/sync/snapshotStore.js';

const CHILD_SRC = join(process.cwd(), 'test/integration/agent/crashChild.ts');
// Bundled once with esbuild: node starts a plain .mjs in tens of ms, so kills land inside the work.
let CHILD = '';
const ROUNDS = 20;

function spawnChild(args: string[]): { p: ChildProcess; out: () => string; exit: Promise<void> } {
  const p = spawn(process.execPath, [CHILD, ...args], { env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  p.stdout!.on('data', (d) => (out += d));
  const exit = new Promise<void>((r) => p.on('exit', () => r()));
  return { p, out: () => out, exit };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function checkCache(cacheDir: string): number {
  let files: string[];
  try {
    files = readdirSync(join(cacheDir, 'sha256'));
  } catch {
    return 0; // killed before the cache made its directories
  }
  for (const f of files) expect(createHash('sha256').update(readFileSync(join(cacheDir, 'sha256', f))).digest('hex')).toBe(f);
  return files.length;
}

describe('crash safety (kill -9 at random instants)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-crash-'));
    CHILD = join(dir, 'crashChild.mjs');
    await build({ entryPoints: [CHILD_SRC], bundle: true, platform: 'node', format: 'esm', outfile: CHILD, logLevel: 'error', banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" } });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a killed snapshot write leaves the previous or the new snapshot, never a torn one', async () => {
    const dataDir = join(dir, 'snap');
    let last = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const c = spawnChild(['snapshot', dataDir, String(last + 1)]);
      // Let it reach the write loop (tsx start-up takes a few hundred ms), then kill anywhere.
      await new Promise<void>((r) => c.p.stdout!.once('data', () => r()));
      await sleep(Math.random() * 60);
      c.p.kill('SIGKILL');
      await c.exit;
      const written = c.out().trim().split('\n').map(Number).filter(Boolean);
      const stored = await loadSnapshot(dataDir);
      expect(stored).not.toBeNull();
      const { revision, unchanged: _u, contentHash: hash, generatedAt: _g, ...content } = stored!.snapshot;
      expect(contentHash(content as SnapshotContent)).toBe(hash);
      // Either the last revision it reported finished, or the one it was writing when killed.
      expect([written[written.length - 1], written[written.length - 1]! + 1]).toContain(revision);
      last = revision;
    }
    const leftovers = readdirSync(dataDir).filter((f) => f !== 'snapshot.json');
    // Temp files of interrupted writes may remain until the agent starts; the snapshot never is one.
    expect(leftovers.every((f) => /\.tmp$/.test(f))).toBe(true);
    await removeStaleTempFiles(dataDir); // what the agent does at start
    expect(readdirSync(dataDir)).toEqual(['snapshot.json']);
  });

  describe('artifact downloads', () => {
    let server: Server;
    let url: string;
    const size = 6 * 1024 * 1024;
    const bytes = randomBytes(size);
    const sha = createHash('sha256').update(bytes).digest('hex');
    let rangeRequests = 0;
    let corrupt = false;
    beforeAll(async () => {
      // A slow origin (about 12 MB/s) so kills land mid-transfer; honours Range like S3.
      server = createServer((req, res) => {
        const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
        const start = m ? Number(m[1]) : 0;
        if (m) rangeRequests++;
        const body = corrupt ? Buffer.from(bytes).fill(7, 1000, 2000) : bytes;
        res.writeHead(m ? 206 : 200, { 'content-length': size - start, ...(m ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}) });
        let off = start;
        const tick = () => {
          if (off >= size) return res.end();
          const next = Math.min(size, off + 64 * 1024);
          res.write(body.subarray(off, next));
          off = next;
          setTimeout(tick, 5);
        };
        tick();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/artifact`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it('resumes after kills, never holds an unverified file, and finishes with the right digest', async () => {
      const cacheDir = join(dir, 'cache');
      for (let round = 0; round < ROUNDS; round++) {
        const c = spawnChild(['download', cacheDir, sha, String(size), url]);
        // Kill at a random instant once the transfer is under way (or the child already ended).
        await Promise.race([new Promise((r) => server.once('request', r)), c.exit]);
        await sleep(Math.random() * 400);
        c.p.kill('SIGKILL');
        await c.exit;
        checkCache(cacheDir);
        if (c.out().includes('done')) break;
      }
      expect(rangeRequests).toBeGreaterThan(0);
      const finish = spawnChild(['download', cacheDir, sha, String(size), url]);
      await finish.exit;
      expect(finish.out()).toContain('done');
      expect(checkCache(cacheDir)).toBe(1);
      const cache = await new ArtifactCache(cacheDir).init();
      expect(await cache.verifiedPath(sha)).toBe(join(cacheDir, 'sha256', sha));
    });

    it('a download with the wrong bytes is discarded; a cached file changed on disk is deleted, never served', async () => {
      const cacheDir = join(dir, 'cache2');
      const cache = await new ArtifactCache(cacheDir).init();
      corrupt = true;
      await expect(cache.ensure(sha, size, url)).rejects.toThrow(/expected 6291456 bytes; discarded/);
      expect(readdirSync(join(cacheDir, 'sha256'))).toEqual([]);
      expect(readdirSync(join(cacheDir, 'partial'))).toEqual([]);
      corrupt = false;
      await cache.ensure(sha, size, url);
      expect(await sha256File(join(cacheDir, 'sha256', sha))).toBe(sha);

      // Bit rot or tampering after the download: a new process hashes before first use.
      const path = join(cacheDir, 'sha256', sha);
      const changed = readFileSync(path);
      changed[12345] = changed[12345]! ^ 0xff;
      writeFileSync(path, changed);
      const restarted = await new ArtifactCache(cacheDir).init();
      expect(await restarted.verifiedPath(sha)).toBeNull();
      expect(readdirSync(join(cacheDir, 'sha256'))).toEqual([]);
      expect((await restarted.stats()).corruptDeleted).toBe(1);
    });
  });
});
