/**
 * The agent against a real gateway: first pull stored with its revision, artifacts fetched from
 * s3rver and verified, and every HTTP endpoint a booting node uses, with a real HTTP client.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { loadSnapshot } from '../../../onprem-agent/sync/snapshotStore.js';
import { writeFileSync } from 'node:fs';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';

describe('agent: sync from the gateway, HTTP boot service', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let agent: RunningAgent;
  let dir: string;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'agenthttp');
    dir = mkdtempSync(join(tmpdir(), 'skyboot-agent-http-'));
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    agent = await startAgent(resolveConfig({ cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600 }));
    await agent.syncer.syncOnce();
  });
  afterAll(async () => {
    await agent?.stop();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the snapshot with its revision and caches verified artifacts', async () => {
    const stored = await loadSnapshot(join(dir, 'data'));
    expect(stored!.revision).toBe(1);
    expect(stored!.snapshot.nodes).toHaveLength(2);
    for (const b of [fx.kernel, fx.initrd]) {
      const bytes = await readFile(join(dir, 'data', 'cache', 'sha256', b.sha256));
      expect(bytes.equals(b.bytes)).toBe(true);
    }
    // Nothing changed: the next pull is answered "unchanged" and rewrites nothing.
    const again = await agent.syncer.syncOnce();
    expect(again).toEqual({ changed: false, revision: 1 });
    expect(agent.syncer.status().lastPullUnchanged).toBe(true);
    expect((await loadSnapshot(join(dir, 'data')))!.storedAt).toBe(stored!.storedAt);
  });

  it('serves the boot script of a known MAC and a retry chain for an unknown one', async () => {
    const res = await fetch(`${agent.httpUrl}/boot/v1/bootscript?mac=02-00-00-00-00-01`);
    expect(res.status).toBe(200);
    const script = await res.text();
    expect(script.split('\n')[0]).toBe('#!ipxe');
    expect(script).toContain(`kernel --name kernel ${agent.httpUrl}/artifacts/sha256/${fx.kernel.sha256} initrd=initrd BOOTIF=01-02-00-00-00-00-01 xname=x1000c0s0b0n0 nid=1 console=ttyS0 || goto failed1`);
    expect(script).toContain(`initrd --name initrd ${agent.httpUrl}/artifacts/sha256/${fx.initrd.sha256} || goto failed1`);
    const unknown = await (await fetch(`${agent.httpUrl}/boot/v1/bootscript?mac=02:00:00:00:99:99`)).text();
    expect(unknown).toContain('MAC 02:00:00:00:99:99 is not in the inventory of this site');
    expect(unknown).toContain(`chain --replace --autofree ${agent.httpUrl}/boot/v1/bootscript?mac=02:00:00:00:99:99&attempt=2`);
    expect((await fetch(`${agent.httpUrl}/boot/v1/bootscript?mac=nonsense`)).status).toBe(400);
  });

  it('serves artifacts with ETag, 304, Range and 416', async () => {
    const url = `${agent.httpUrl}/artifacts/sha256/${fx.kernel.sha256}`;
    const full = await fetch(url);
    expect(full.status).toBe(200);
    const etag = full.headers.get('etag')!;
    expect(etag).toBe(`"sha256-${fx.kernel.sha256}"`);
    expect(full.headers.get('content-length')).toBe(String(fx.kernel.size));
    expect(Buffer.from(await full.arrayBuffer()).equals(fx.kernel.bytes)).toBe(true);
    const nm = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(nm.status).toBe(304);
    const part = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${fx.kernel.size}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(fx.kernel.bytes.subarray(100, 200))).toBe(true);
    const tail = await fetch(url, { headers: { range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(fx.kernel.bytes.subarray(fx.kernel.size - 10))).toBe(true);
    expect((await fetch(url, { headers: { range: `bytes=${fx.kernel.size}-` } })).status).toBe(416);
    expect((await fetch(`${agent.httpUrl}/artifacts/sha256/${'0'.repeat(64)}`)).status).toBe(404);
  });

  it('serves cloud-init by MAC or xname and turns heartbeats and phone-home into delivered observations', async () => {
    const md = await fetch(`${agent.httpUrl}/cloud-init/x1000c0s1b0n0/meta-data`);
    expect(md.status).toBe(200);
    expect(JSON.parse(await md.text())).toMatchObject({ 'instance-id': 'x1000c0s1b0n0' });
    expect((await fetch(`${agent.httpUrl}/cloud-init/02:00:00:00:00:02/user-data`)).status).toBe(200);
    expect((await fetch(`${agent.httpUrl}/cloud-init/x9c0s0b0n0/meta-data`)).status).toBe(404);
    expect((await fetch(`${agent.httpUrl}/cloud-init/%E0%A4%A/meta-data`)).status).toBe(400);
    expect((await fetch(`${agent.httpUrl}/artifacts/sha256/..%2F..%2Fsnapshot.json`)).status).toBe(404);

    const hb = await fetch(`${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mac: '02:00:00:00:00:02', stage: 'initramfs', idempotencyKey: 'hb-test-1' }) });
    expect(hb.status).toBe(202);
    const ph = await fetch(`${agent.httpUrl}/cloud-init/phone-home`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'instance_id=x1000c0s1b0n0&hostname=x1000c0s1b0n0' });
    expect(ph.status).toBe(202);
    await agent.outbox.drain();
    expect(agent.outbox.depth).toBe(0);
    const item = await cloud.gw.aws.clients.doc.send(new GetCommand({ TableName: cloud.gw.aws.tableName, Key: { PK: 'OBS#agenthttp#hb-test-1', SK: 'OBS' } }));
    expect(item.Item).toMatchObject({ kind: 'heartbeat', payload: { xname: 'x1000c0s1b0n0', stage: 'initramfs' } });
  });

  it('reports its state on /status', async () => {
    const s = (await (await fetch(`${agent.httpUrl}/status`)).json()) as Record<string, Record<string, unknown>>;
    expect(s.cloud).toMatchObject({ configured: true, up: true, lastError: null });
    expect(s.snapshot).toMatchObject({ revision: 1, nodes: 2 });
    expect(s.cache).toMatchObject({ entries: 2, bytes: fx.kernel.size + fx.initrd.size, missing: [] });
    expect(s.outbox).toMatchObject({ depth: 0 });
    expect(s.dhcp).toMatchObject({ mode: 'off' });
  });
});
