/**
 * One agent sync in its own process, so its time and peak RSS are the agent's alone:
 *   node --import tsx bench/scale/agentSync.ts <gateway url> <token file> <data dir>
 * Loads what <data dir> holds (none: from empty), pulls once, prints JSON on stdout.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArtifactCache } from '../../onprem-agent/cache/artifactCache.js';
import { CloudClient } from '../../onprem-agent/sync/cloudClient.js';
import { Syncer } from '../../onprem-agent/sync/syncer.js';

const [url, tokenFile, dir] = process.argv.slice(2) as [string, string, string];
const started = performance.now();
const syncer = new Syncer(dir, new CloudClient({ url, token: readFileSync(tokenFile, 'utf8').trim(), timeoutMs: 120_000 }), await new ArtifactCache(join(dir, 'cache')).init());
await syncer.init();
const loaded = performance.now();
const r = await syncer.syncOnce();
const done = performance.now();
process.stdout.write(
  `${JSON.stringify({
    changed: r.changed,
    revision: r.revision,
    nodes: syncer.index?.stored.snapshot.nodes?.length ?? 0,
    loadMs: loaded - started,
    syncMs: done - loaded,
    totalMs: done - started,
    transfer: syncer.status().lastTransfer,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  })}\n`,
);
