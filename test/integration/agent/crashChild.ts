/**
 * Child process for the kill -9 tests.
 * - `snapshot <dataDir> <startRevision>`: stores snapshots of ~1 MB with rising revisions, forever.
 * - `download <cacheDir> <sha256> <size> <url>`: fetches one artifact into the cache, then exits 0.
 */
import type { SiteSnapshot, SnapshotContent } from '../../../schema/siteSnapshot.js';
import { contentHash } from '../../../schema/siteSnapshot.js';
import { mkdirSync } from 'node:fs';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { saveSnapshot } from '../../../onprem-agent/sync/snapshotStore.js';

const [mode, ...args] = process.argv.slice(2);

export function fakeContent(revision: number): SnapshotContent {
  return {
    site: 'crash',
    siteDomain: null,
    nodes: Array.from({ length: 1000 }, (_, i) => ({
      xname: `x${revision}c0s${i}b0n0`,
      nid: i,
      role: 'COMPUTE',
      subRole: null,
      arch: 'X86' as const,
      groups: ['compute'],
      interfaces: [{ mac: `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, ipAddresses: [`10.0.${i >> 8}.${i & 255}`], network: 'hsn' }],
      boot: { configId: `bc-${revision}`, matchedSelector: 'role:COMPUTE', imageId: null, kernel: 'a'.repeat(64), initrd: null, rootfs: null, kernelParameters: `console=ttyS0 rev=${revision} ${'x'.repeat(300)}`, rootfsProvider: null },
      cloudInit: null,
    })),
    discovery: [],
    artifacts: [],
    images: [],
    redfishEndpoints: [],
  };
}

if (mode === 'snapshot') {
  const [dataDir, start] = args;
  mkdirSync(dataDir!, { recursive: true });
  for (let r = Number(start); ; r++) {
    const content = fakeContent(r);
    const snap: SiteSnapshot = { ...content, revision: r, unchanged: false, contentHash: contentHash(content), generatedAt: new Date().toISOString() };
    await saveSnapshot(dataDir!, snap);
    process.stdout.write(`${r}\n`);
  }
} else if (mode === 'download') {
  const [cacheDir, sha, size, url] = args;
  const cache = await new ArtifactCache(cacheDir!).init();
  await cache.ensure(sha!, Number(size), url!);
  process.stdout.write('done\n');
}
