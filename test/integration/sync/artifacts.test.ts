/**
 * Artifacts through the real path: presigned GETs from the snapshot against s3rver. A partial
 * download left behind is resumed with a Range request (only the rest is transferred); a change of
 * image brings the new artifacts and garbage-collects the old ones.
 */
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { CloudClient } from '../../../onprem-agent/sync/cloudClient.js';
import { Syncer } from '../../../onprem-agent/sync/syncer.js';
import { startTestCloud, type TestCloud } from './cloud.js';
import { blob, siteFixture, type SiteFixture } from './siteFixture.js';

describe('sync: artifacts from S3 (s3rver) into the cache', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let dir: string;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'artifacts', { kernelSize: 3 * 1024 * 1024, initrdSize: 64 * 1024 });
    dir = mkdtempSync(join(tmpdir(), 'skyboot-sync-art-'));
  });
  afterAll(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('resumes a partial download with Range, then GCs what a new image replaced', async () => {
    const cache = await new ArtifactCache(join(dir, 'cache')).init();
    // What a download killed after 1 MiB leaves behind.
    writeFileSync(join(cache.partialDir, `${fx.kernel.sha256}.part`), fx.kernel.bytes.subarray(0, 1024 * 1024));
    const syncer = new Syncer(dir, new CloudClient({ url: cloud.gw.url, token: fx.agentToken }), cache);
    await syncer.syncOnce();
    const stats = await cache.stats();
    expect(stats).toMatchObject({ entries: 2, partialEntries: 0, resumedDownloads: 1 });
    // Only the missing 2 MiB of the kernel and the whole initrd crossed the wire.
    expect(stats.downloadedBytes).toBe(fx.kernel.size - 1024 * 1024 + fx.initrd.size);
    expect(await cache.verifiedPath(fx.kernel.sha256)).not.toBeNull();

    const kernel2 = blob(100 * 1024);
    const initrd2 = blob(100 * 1024);
    const image2 = await fx.pushImage('compute-next', kernel2, initrd2);
    await fx.setBoot({ selector: { roles: ['COMPUTE'] }, imageId: image2, kernelParameters: 'console=ttyS0' });
    const r = await syncer.syncOnce();
    expect(r.changed).toBe(true);
    expect(readdirSync(cache.verifiedDir).sort()).toEqual([kernel2.sha256, initrd2.sha256].sort());
    expect(syncer.status().artifacts).toMatchObject({ referenced: 2, cached: 2, missing: [] });
  });

  it('runs pulls asked for at once one after the other: the second asks for the revision the first stored', async () => {
    const own = mkdtempSync(join(tmpdir(), 'skyboot-sync-twice-'));
    try {
      const cache = await new ArtifactCache(join(own, 'cache')).init();
      const syncer = new Syncer(own, new CloudClient({ url: cloud.gw.url, token: fx.agentToken }), cache);
      const [first, second] = await Promise.all([syncer.syncOnce(), syncer.syncOnce()]);
      expect(first.changed).toBe(true);
      expect(second).toEqual({ changed: false, revision: first.revision });
      expect(syncer.status().lastPullUnchanged).toBe(true);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});
