/**
 * A 20,000-node site through the real path: upsertComponents over the test gateway's HTTP entry
 * (API Gateway's 10 MB) and its in-process invoker (Lambda's 6 MB each way and 25 s), then the agent's own
 * Syncer pulling through the same gateway and fetching the stored snapshot objects from s3rver.
 * The content is well over 6 MB of JSON, so it only syncs because the answer is references.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { CloudClient, SNAPSHOT_QUERY } from '../../../onprem-agent/sync/cloudClient.js';
import { Syncer } from '../../../onprem-agent/sync/syncer.js';
import { contentOf } from '../../../onprem-agent/sync/snapshotTransfer.js';
import { LAMBDA_RESPONSE_LIMIT_BYTES } from '../../../gateway/payloadLimits.js';
import { MAX_INPUT } from '../../../functions/inventory/componentUpsert.js';
import { contentHash } from '../../../schema/siteSnapshot.js';
import type { SiteSnapshotAnswer, SnapshotDelta } from '../../../schema/snapshotDelta.js';
import { deltaObjectKey } from '../../../functions/sites/snapshotObjects.js';
import { siteItem, type RevisionEntry } from '../../../functions/sites/snapshotRevision.js';
import { startTestCloud, type TestCloud } from './cloud.js';
import { siteFixture, type SiteFixture } from './siteFixture.js';

const N = 20_000;
const SITE = 'scale';
const UPSERT = `mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { created updated unchanged failed errors { path message } errorsOmitted } }`;

/** Distinct node xnames beyond the fixture's two (cabinets from x3000). */
const xnameFor = (i: number) => `x${3000 + Math.floor(i / 2048)}c${Math.floor(i / 256) % 8}s${Math.floor(i / 4) % 64}b0n${i % 4}`;

describe(`site snapshot at scale (${N.toLocaleString('en')} nodes, real limit-enforcing invoker, s3rver)`, () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let dir: string;
  let syncer: Syncer;
  beforeAll(async () => {
    cloud = await startTestCloud({ ownDynamoDb: true });
    fx = await siteFixture(cloud.gw, SITE);
    dir = mkdtempSync(join(tmpdir(), 'skyboot-scale-'));
    syncer = new Syncer(dir, new CloudClient({ url: cloud.gw.url, token: fx.agentToken, timeoutMs: 120_000 }), await new ArtifactCache(join(dir, 'cache')).init());
  }, 120_000);
  afterAll(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const answer = async (since: number | null) => {
    const r = await cloud.gw.gql<{ siteSnapshot: SiteSnapshotAnswer }>(SNAPSHOT_QUERY, { since }, fx.agentToken);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return { a: r.data!.siteSnapshot, bytes: JSON.stringify(r).length };
  };
  const history = async () => ((await siteItem(cloud.gw.aws.clients, SITE))!.snapshotHistory as RevisionEntry[]);

  it(`upserts ${N.toLocaleString('en')} nodes in calls of ${MAX_INPUT.toLocaleString('en')} (the most one call takes), each answering counts well under Lambda's 6 MB and inside its 25 s`, async () => {
    for (let from = 0; from < N; from += MAX_INPUT) {
      const input = Array.from({ length: Math.min(MAX_INPUT, N - from) }, (_, i) => ({ xname: xnameFor(from + i), site: SITE, role: 'COMPUTE', arch: 'X86' }));
      const res = await fetch(`${cloud.gw.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${cloud.gw.tokens.admin}` },
        body: JSON.stringify({ query: UPSERT, variables: { in: input } }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      expect(JSON.parse(text)).toEqual({ data: { upsertComponents: { created: input.length, updated: 0, unchanged: 0, failed: 0, errors: [], errorsOmitted: 0 } } });
      expect(text.length).toBeLessThan(1024);
      expect(text.length).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    }
  }, 600_000);

  it('syncs the whole site from empty through the gateway; the answer stays small', async () => {
    const r = await syncer.syncOnce();
    expect(r.changed).toBe(true);
    const stored = syncer.index!.stored;
    expect(stored.snapshot.nodes).toHaveLength(N + 2);
    expect(syncer.index!.byXname.get(xnameFor(N - 1))!.boot).toMatchObject({ kernel: fx.kernel.sha256, matchedSelector: 'role:COMPUTE' });
    expect(contentHash(contentOf(stored.snapshot))).toBe(stored.contentHash);
    const t = syncer.status().lastTransfer!;
    expect(t.mode).toBe('full');
    // The content is megabytes of JSON (more than one Lambda answer could carry); gzip takes it far below.
    expect(JSON.stringify(stored.snapshot).length).toBeGreaterThan(LAMBDA_RESPONSE_LIMIT_BYTES);
    expect(t.bytes).toBeLessThan(JSON.stringify(stored.snapshot).length / 5);
    const full = await answer(null);
    expect(full.a.content!.bytes).toBe(t.bytes);
    expect(full.bytes).toBeLessThan(4096);
  }, 300_000);

  it('an unchanged site costs one small answer and fetches nothing', async () => {
    const before = syncer.status().lastTransfer;
    const r = await syncer.syncOnce();
    expect(r.changed).toBe(false);
    expect(syncer.status().lastPullUnchanged).toBe(true);
    expect(syncer.status().lastTransfer).toBe(before);
    const { a, bytes } = await answer(r.revision);
    expect(a).toMatchObject({ unchanged: true, content: null, deltas: null, artifacts: null });
    expect(bytes).toBeLessThan(512);
  }, 120_000);

  it('a one-node change transfers a delta of that node only', async () => {
    const target = xnameFor(1234);
    const from = syncer.index!.stored.revision;
    await fx.setBoot({ selector: { xnames: [target] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 one.node=changed' });
    const r = await syncer.syncOnce();
    expect(r).toEqual({ changed: true, revision: from + 1 });
    const t = syncer.status().lastTransfer!;
    expect(t).toEqual({ mode: 'delta', bytes: expect.any(Number), deltaRefused: null });
    const whole = (await history()).find((h) => h.revision === from + 1)!;
    // One node's JSON gzipped (plus the delta's frame); the whole content is three orders larger.
    expect(t.bytes).toBe(whole.deltaBytes);
    expect(t.bytes).toBeLessThan(1024);
    expect(t.bytes * 100).toBeLessThan(whole.bytes);
    expect(syncer.index!.byXname.get(target)!.boot).toMatchObject({ matchedSelector: `xname:${target}`, kernelParameters: 'console=ttyS0 one.node=changed' });
    expect(syncer.index!.stored.contentHash).toBe(whole.hash);
  }, 300_000);

  it('refuses a corrupt delta by its content hash and recovers with the whole snapshot', async () => {
    const target = xnameFor(4321);
    const from = syncer.index!.stored.revision;
    await fx.setBoot({ selector: { xnames: [target] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 real=value' });
    // Build the revision (a pull), then corrupt its delta where it is stored: what a damaged
    // object or a tampered transfer hands the agent.
    const built = await answer(from);
    expect(built.a.deltas).toHaveLength(1);
    const entry = (await history()).at(-1)!;
    const c = cloud.gw.aws.clients;
    const Key = deltaObjectKey(SITE, entry.deltaFrom!, entry.hash);
    const obj = await c.s3.send(new GetObjectCommand({ Bucket: c.config.bucketName, Key }));
    const delta = JSON.parse(gunzipSync(await obj.Body!.transformToByteArray()).toString()) as SnapshotDelta;
    expect(delta.put.map((n) => n.xname)).toEqual([target]);
    delta.put[0]!.boot!.kernelParameters = 'console=ttyS0 tampered=1';
    await c.s3.send(new PutObjectCommand({ Bucket: c.config.bucketName, Key, Body: gzipSync(JSON.stringify(delta)) }));

    const r = await syncer.syncOnce();
    expect(r).toEqual({ changed: true, revision: from + 1 });
    const t = syncer.status().lastTransfer!;
    expect(t.mode).toBe('full');
    expect(t.deltaRefused).toMatch(new RegExp(`deltas to revision ${from + 1} give content hashing to [0-9a-f]{64}, not ${entry.hash}`));
    expect(syncer.index!.byXname.get(target)!.boot!.kernelParameters).toBe('console=ttyS0 real=value');
    expect(syncer.index!.stored.contentHash).toBe(entry.hash);
  }, 300_000);
});
