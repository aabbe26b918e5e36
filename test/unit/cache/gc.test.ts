import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ArtifactCache, type VerifiedSetChange } from '../../../onprem-agent/cache/artifactCache.js';

describe('artifact cache GC and lookups', () => {
  it('removes unreferenced verified and partial files, keeps referenced ones', async () => {
    const cache = await new ArtifactCache(mkdtempSync(join(tmpdir(), 'cache-'))).init();
    const shas = [0, 1, 2].map(() => {
      const b = randomBytes(1000);
      const sha = createHash('sha256').update(b).digest('hex');
      writeFileSync(cache.pathOf(sha), b);
      return sha;
    });
    writeFileSync(join(cache.partialDir, `${'d'.repeat(64)}.part`), 'x');
    writeFileSync(join(cache.partialDir, `${shas[0]}.part`), 'x');
    const removed = await cache.gc(new Set([shas[0]!, shas[1]!]));
    expect(removed.sort()).toEqual([shas[2]!, `${'d'.repeat(64)}.part`].sort());
    expect(readdirSync(cache.verifiedDir).sort()).toEqual([shas[0], shas[1]].sort());
    expect(await cache.verifiedPath(shas[1]!)).toBe(cache.pathOf(shas[1]!));
    expect(await cache.verifiedPath(shas[2]!)).toBeNull();
    expect(await cache.verifiedPath('../../etc/passwd')).toBeNull();
    expect(await cache.stats()).toMatchObject({ entries: 2, bytes: 2000, partialEntries: 1 });
  });

  it('tells listeners when the verified set changes: a finished download, a GC, a file that fails verification', async () => {
    const cache = await new ArtifactCache(mkdtempSync(join(tmpdir(), 'cache-'))).init();
    const changes: VerifiedSetChange[] = [];
    const unsubscribe = cache.onVerifiedChange((c) => changes.push(c));
    const body = randomBytes(300_000);
    const sha = createHash('sha256').update(body).digest('hex');
    const server = createServer((_req, res) => res.end(body));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      await cache.ensure(sha, body.length, `http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
    } finally {
      server.close();
    }
    expect(changes).toEqual([{ added: [sha], removed: [] }]);
    const bad = 'e'.repeat(64);
    writeFileSync(cache.pathOf(bad), 'not what the digest says');
    expect(await cache.verifiedPath(bad)).toBeNull();
    expect(changes[1]).toEqual({ added: [], removed: [bad] });
    await cache.gc(new Set());
    expect(changes[2]).toEqual({ added: [], removed: [sha] });
    unsubscribe();
    await cache.gc(new Set());
    expect(changes).toHaveLength(3);
  });
});
