/**
 * agent.portals observations → siteSnapshot.iscsiPortals → the agent's boot scripts, through the
 * real gateway and an agent started with iSCSI on a real tgtd of the test's own (a boot script
 * names the root only once this agent exports it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { verifyArtifact } from '../../../functions/images/verify.js';
import { s3KeyFor } from '../../../functions/images/keys.js';
import { pullSnapshot, startTestCloud, type TestCloud } from './cloud.js';
import { blob, siteFixture, type Blob, type SiteFixture } from './siteFixture.js';
import { startTgtd, type Tgtd } from '../iscsi/tgtd.js';

const REPORT = `mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { idempotencyKey outcome error } }`;

describe('agent.portals: every agent learns the site’s iSCSI portals (gateway, agent token)', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let rootfs: Blob;
  let dir: string;
  let agent: RunningAgent | undefined;
  let tgtd: Tgtd | undefined;
  let seq = 0;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'portals');
    rootfs = blob(64 * 1024);
    const c = cloud.gw.aws.clients;
    const created = await cloud.gw.gql<{ createImage: { image: { id: string } } }>(
      `mutation($in: CreateImageInput!) { createImage(input: $in) { image { id } } }`,
      { in: { name: 'iscsi', version: '1', arch: 'X86', artifacts: [fx.kernel, fx.initrd, rootfs].map((b, i) => ({ type: ['KERNEL', 'INITRD', 'ROOTFS_SQUASHFS'][i], size: b.size, sha256: b.sha256 })) } },
    );
    if (created.errors) throw new Error(JSON.stringify(created.errors));
    await c.s3.send(new PutObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(rootfs.sha256), Body: rootfs.bytes }));
    expect((await verifyArtifact(c, c.config.bucketName, rootfs.sha256)).status).toBe('READY');
    await fx.setBoot({ selector: { xnames: ['x1000c0s0b0n0'] }, imageId: created.data!.createImage.image.id, kernelParameters: 'console=ttyS0', rootfsProvider: 'ISCSI' });
    dir = mkdtempSync(join(tmpdir(), 'skyboot-portals-'));
  });
  afterAll(async () => {
    await agent?.stop();
    await tgtd?.stop();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const pull = (since: number | null) => pullSnapshot(cloud.gw, fx.agentToken, since);
  const report = async (agentName: unknown, portals: unknown) => {
    const b = [{ idempotencyKey: `portals-${++seq}`, kind: 'agent.portals', at: new Date().toISOString(), payload: { agent: agentName, portals } }];
    const r = await cloud.gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>(REPORT, { b }, fx.agentToken);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.reportObservations[0]!;
  };

  it('carries every agent’s portals in the snapshot and bumps the revision once per change', async () => {
    const first = await pull(null);
    expect(first.iscsiPortals).toEqual([]);
    const r0 = first.revision;
    expect(await report('agent-c', ['10.0.0.13:3260'])).toMatchObject({ outcome: 'STORED', error: null });
    expect((await pull(r0)).revision).toBe(r0 + 1);
    expect(await report('agent-b', ['10.0.1.12:3260', '10.0.0.12:3260'])).toMatchObject({ outcome: 'STORED', error: null });
    const both = await pull(r0 + 1);
    expect(both.revision).toBe(r0 + 2);
    expect(both.iscsiPortals).toEqual([
      { agent: 'agent-b', portals: ['10.0.0.12:3260', '10.0.1.12:3260'] },
      { agent: 'agent-c', portals: ['10.0.0.13:3260'] },
    ]);
    // The same set again (an agent restart): nothing changes.
    await report('agent-b', ['10.0.0.12:3260', '10.0.1.12:3260']);
    expect(await pull(r0 + 2)).toMatchObject({ revision: r0 + 2, unchanged: true });
    // An empty list withdraws the agent's portals.
    await report('agent-c', []);
    const withdrawn = await pull(r0 + 2);
    expect(withdrawn.revision).toBe(r0 + 3);
    expect(withdrawn.iscsiPortals).toEqual([{ agent: 'agent-b', portals: ['10.0.0.12:3260', '10.0.1.12:3260'] }]);
  });

  it('rejects an invalid portal for good, naming the field', async () => {
    const r = await report('agent-b', ['10.0.0.12:3260', '10.0.0.12:70000']);
    expect(r.outcome).toBe('REJECTED');
    expect(r.error).toMatch(/payload\.portals\[1\].*port 1-65535/);
    expect((await report('Not An Agent', ['10.0.0.12:3260'])).error).toMatch(/payload\.agent/);
    expect((await pull(null)).iscsiPortals).toEqual([{ agent: 'agent-b', portals: ['10.0.0.12:3260', '10.0.1.12:3260'] }]);
  });

  it('serves ISCSI nodes a netroot per portal of every agent, its own included', async () => {
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    tgtd = await startTgtd();
    agent = await startAgent(
      resolveConfig({
        cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600,
        iscsi: 'tgt', iscsiPortal: '127.0.0.1:3260', tgtControlPort: tgtd.controlPort,
      }),
      { agentName: 'agent-a', outboxBackoffBaseMs: 50 },
    );
    const sha16 = rootfs.sha256.slice(0, 16);
    const netroots = async () => {
      const script = await (await fetch(`${agent!.httpUrl}/boot/v1/bootscript?mac=02-00-00-00-00-01`)).text();
      // The kernel line of the first attempt (the script repeats it for its retries).
      return script.split('\n').find((l) => l.startsWith('kernel '))?.match(/netroot=iscsi:\S+/g);
    };
    const expected = [
      `netroot=iscsi:127.0.0.1::3260:1:iqn.2026-11.skyboot.test:agent-a:img-${sha16}`,
      `netroot=iscsi:10.0.0.12::3260:1:iqn.2026-11.skyboot.test:agent-b:img-${sha16}`,
      `netroot=iscsi:10.0.1.12::3260:1:iqn.2026-11.skyboot.test:agent-b:img-${sha16}`,
    ];
    await agent.syncer.syncOnce();
    // Its own portals come from its config, before its observation has made the round trip;
    // the root is named once the downloaded rootfs is exported (moments after the pull).
    for (let i = 0; !(await netroots()); i++) {
      if (i > 200) throw new Error(`the boot script never named the iSCSI root: ${JSON.stringify((await agent.status()).iscsi)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await netroots()).toEqual(expected);
    for (let i = 0; agent.outbox.depth > 0; i++) {
      if (i > 200) throw new Error('the agent.portals observation was not delivered');
      await new Promise((r) => setTimeout(r, 25));
    }
    await agent.syncer.syncOnce();
    expect(agent.syncer.index!.stored.snapshot.iscsiPortals!.map((a) => a.agent)).toEqual(['agent-a', 'agent-b']);
    expect(await netroots()).toEqual(expected);
    const script = await (await fetch(`${agent.httpUrl}/boot/v1/bootscript?mac=02-00-00-00-00-02`)).text();
    expect(script).not.toContain('netroot=');
  });
});
