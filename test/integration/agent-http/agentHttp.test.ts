/**
 * The agent against a real gateway: first pull stored with its revision, artifacts fetched from
 * s3rver and verified, and every HTTP endpoint a booting node uses, with a real HTTP client. The
 * node-scoped answers (cloud-init, heartbeats, phone-home) are asked from the nodes' own
 * inventory addresses, from each other's and from a stranger's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { log } from '../../../onprem-agent/logger.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { loadSnapshot } from '../../../onprem-agent/sync/snapshotStore.js';
import { writeFileSync } from 'node:fs';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import { httpFrom } from '../../support/httpFrom.js';
import { bootTokenFromCmdline } from '../../../bootscript/bootToken.js';

// The two nodes' inventory addresses, on loopback so requests can come from them (Linux routes
// all of 127/8 to lo); STRANGER is a host on the LAN the inventory does not know.
const NODE_ADDRESSES: [string, string] = ['127.0.0.2', '127.0.0.3'];
const STRANGER = '127.0.0.9';

/**
 * The running agent's own delivery loop empties the outbox (a second drain() beside it would race
 * it for the same files).
 */
async function waitForEmpty(outbox: RunningAgent['outbox']): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (outbox.depth > 0) {
    if (Date.now() > deadline) throw new Error(`the outbox still holds ${outbox.depth} entries after 20 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent: sync from the gateway, HTTP boot service', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let A: SiteFixture['nodes'][number];
  let B: SiteFixture['nodes'][number];
  let warn: ReturnType<typeof jest.spyOn>;
  const deliveredAll = () => waitForEmpty(agent.outbox);
  /** Accepted heartbeats and 429s the tests saw, for the status check. */
  const expected = { heartbeats: 1, rateLimited: 0 };
  let agent: RunningAgent;
  let dir: string;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'agenthttp', { nodeAddresses: NODE_ADDRESSES });
    [A, B] = fx.nodes as [SiteFixture['nodes'][number], SiteFixture['nodes'][number]];
    dir = mkdtempSync(join(tmpdir(), 'skyboot-agent-http-'));
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    agent = await startAgent(resolveConfig({ cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600 }));
    await agent.syncer.syncOnce();
    warn = jest.spyOn(log, 'warn');
  });
  afterAll(async () => {
    warn?.mockRestore();
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
    expect(script).toContain(`kernel --name kernel ${agent.httpUrl}/artifacts/sha256/${fx.kernel.sha256} initrd=initrd BOOTIF=01-02-00-00-00-00-01 xname=x1000c0s0b0n0 nid=1 console=ttyS0 skyboot.token=${bootTokenFromCmdline(script) ?? 'missing'} || goto failed1`);
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

  it('serves a node its own cloud-init by MAC or xname, from its inventory address only', async () => {
    const md = await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/${A.xname}/meta-data`);
    expect(md.status).toBe(200);
    expect(JSON.parse(md.text())).toMatchObject({ 'instance-id': A.xname });
    expect((await httpFrom(B.ip, `${agent.httpUrl}/cloud-init/${B.mac}/user-data`)).status).toBe(200);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/${A.mac.replace(/:/g, '-')}/vendor-data`)).status).toBe(200);

    // A asks for B's: refused, and the body says why.
    const other = await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/${B.xname}/user-data`);
    expect(other.status).toBe(403);
    expect(other.text()).toContain(`${A.ip} is the address of ${A.xname}, not of ${B.xname}`);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/${B.mac}/meta-data`)).status).toBe(403);
    // An address the site does not know (127.0.0.1 included: the agent's own host is no node).
    const stranger = await httpFrom(STRANGER, `${agent.httpUrl}/cloud-init/${A.xname}/user-data`);
    expect(stranger.status).toBe(403);
    expect(stranger.text()).toContain(`${STRANGER} is neither an inventory address of ${A.xname} nor this agent's DHCP lease`);
    expect((await fetch(`${agent.httpUrl}/cloud-init/${A.xname}/user-data`)).status).toBe(403);

    expect((await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/x9c0s0b0n0/meta-data`)).status).toBe(404);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/%E0%A4%A/meta-data`)).status).toBe(400);
    expect((await fetch(`${agent.httpUrl}/artifacts/sha256/..%2F..%2Fsnapshot.json`)).status).toBe(404);
  });

  it('turns a node\'s own heartbeats and phone-home into delivered observations and refuses everyone else\'s', async () => {
    const json = { 'content-type': 'application/json' };
    const hb = await httpFrom(B.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ mac: B.mac, stage: 'initramfs', idempotencyKey: 'hb-test-1' }) });
    expect(hb.status).toBe(202);
    const ph = await httpFrom(B.ip, `${agent.httpUrl}/cloud-init/phone-home`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `instance_id=${B.xname}&hostname=${B.xname}` });
    expect(ph.status).toBe(202);

    // A forging B's heartbeat, by MAC and by xname; a stranger forging A's; names that are no node.
    const forged = await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ mac: B.mac, stage: 'booted', idempotencyKey: 'hb-forged' }) });
    expect(forged.status).toBe(403);
    expect(forged.text()).toContain(`a heartbeat for ${B.xname} is answered only for requests from ${B.xname}: ${A.ip} is the address of ${A.xname}`);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ xname: B.xname }) })).status).toBe(403);
    expect((await httpFrom(STRANGER, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ xname: A.xname }) })).status).toBe(403);
    expect((await httpFrom(STRANGER, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ mac: '02:00:00:00:99:99' }) })).status).toBe(403);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ xname: A.xname, mac: B.mac }) })).status).toBe(403);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/cloud-init/${B.xname}/phone-home`, { method: 'POST', body: 'hostname=x' })).status).toBe(403);
    expect((await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: json, body: JSON.stringify({ mac: 'nonsense' }) })).status).toBe(400);

    // The log names the requester, the node it claimed and why.
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ requester: A.ip, claimed: { xname: null, mac: B.mac }, reason: 'requester-is-another-node', status: 403, path: '/heartbeat' }), expect.stringContaining('http request refused (requester-is-another-node)'));
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ requester: STRANGER, claimed: { id: A.xname }, reason: 'requester-unknown', path: `/cloud-init/${A.xname}/user-data` }), expect.any(String));

    await deliveredAll();
    const get = async (key: string) => (await cloud.gw.aws.clients.doc.send(new GetCommand({ TableName: cloud.gw.aws.tableName, Key: { PK: `OBS#agenthttp#${key}`, SK: 'OBS' } }))).Item;
    expect(await get('hb-test-1')).toMatchObject({ kind: 'heartbeat', payload: { xname: B.xname, stage: 'initramfs', remoteAddress: B.ip } });
    expect(await get('hb-forged')).toBeUndefined();
    const phKey = (JSON.parse(ph.text()) as { idempotencyKey: string }).idempotencyKey;
    expect(await get(phKey)).toMatchObject({ kind: 'cloudinit.phoneHome', payload: { xname: B.xname, hostname: B.xname } });
  });

  it('caps observation bodies (413) and limits each address\'s heartbeats (429 with Retry-After)', async () => {
    const big = JSON.stringify({ xname: A.xname, pad: 'x'.repeat(70 * 1024) });
    const declared = await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
    expect(declared.status).toBe(413);
    expect(declared.text()).toContain('larger than 65536 bytes');
    const chunked = await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big, chunked: true });
    expect(chunked.status).toBe(413);

    // B's budget: 20 at once, two of them spent by its heartbeat and phone-home above; it earns
    // one back every 2 s, so a slow machine may see one or two more accepted in the burst.
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof httpFrom>> | undefined;
    for (let i = 0; i < 25 && !limited; i++) {
      const r = await httpFrom(B.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', body: JSON.stringify({ xname: B.xname, stage: `burst-${i}` }) });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    const accepted = statuses.filter((st) => st === 202).length;
    expect(accepted).toBeGreaterThanOrEqual(18);
    expect(accepted).toBeLessThanOrEqual(20);
    expect(statuses.at(-1)).toBe(429);
    const retryAfter = Number(limited?.headers['retry-after']);
    expect([1, 2]).toContain(retryAfter);
    expect(limited?.text()).toContain(`heartbeats from ${B.ip}: too many, retry after ${retryAfter} s`);
    // Per address: A is not held back by B's burst; B is accepted again once Retry-After passed.
    expect((await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', body: JSON.stringify({ xname: A.xname }) })).status).toBe(202);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 100));
    expect((await httpFrom(B.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', body: JSON.stringify({ xname: B.xname }) })).status).toBe(202);
    expected.heartbeats += accepted + 2;
    expected.rateLimited += 1;
  });

  it('reports its state on /status', async () => {
    await deliveredAll();
    const s = (await (await fetch(`${agent.httpUrl}/status`)).json()) as Record<string, Record<string, unknown>>;
    expect(s.cloud).toMatchObject({ configured: true, up: true, lastError: null });
    expect(s.snapshot).toMatchObject({ revision: 1, nodes: 2 });
    expect(s.cache).toMatchObject({ entries: 2, bytes: fx.kernel.size + fx.initrd.size, missing: [] });
    expect(s.outbox).toMatchObject({ depth: 0 });
    expect(s.dhcp).toMatchObject({ mode: 'off' });
    // What was refused above, by reason.
    expect(s.http).toMatchObject({
      heartbeats: expected.heartbeats,
      phoneHomes: 1,
      refused: { 'requester-is-another-node': 5, 'requester-unknown': 3, 'unknown-node': 1, 'conflicting-claim': 1, 'rate-limited': expected.rateLimited, 'body-too-large': 2 },
    });
  });
});
