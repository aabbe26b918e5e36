import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';

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
});
