/**
 * The rule: nothing a booting node needs waits on the cloud. The agent syncs through a TCP proxy
 * in front of the gateway; the proxy is then closed (connections refused, as in a WAN outage).
 * Every boot request is answered byte-for-byte as before, a restarted agent answers the same from
 * disk, status shows the outage, heartbeats queue durably, and once the link returns the agent
 * catches up (new revision) and the outbox drains.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resolveConfig, type AgentConfig } from '../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../onprem-agent/run/agent.js';
import { startTcpProxy, type TcpProxy } from '../integration/agent/tcpProxy.js';
import { startTestCloud, type TestCloud } from '../integration/sync/cloud.js';
import { siteFixture, type SiteFixture } from '../integration/sync/siteFixture.js';
import { freeTcpPort } from '../support/ports.js';
import { httpFrom } from '../support/httpFrom.js';

/** The fixture's two nodes' inventory addresses: loopback, so the test can send from them. */
const NODE_ADDRESSES: [string, string] = ['127.0.0.4', '127.0.0.5'];

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('agent offline: boots are served from the cache while the cloud is unreachable', () => {
  let cloud: TestCloud;
  let proxy: TcpProxy;
  let fx: SiteFixture;
  let agent: RunningAgent;
  let dir: string;
  let config: AgentConfig;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'offline', { nodeAddresses: NODE_ADDRESSES });
    proxy = await startTcpProxy(cloud.gw.url);
    dir = mkdtempSync(join(tmpdir(), 'skyboot-offline-'));
    writeFileSync(join(dir, 'client.secret'), fx.agentClient.clientSecret, { mode: 0o600 });
    // A fixed port for this agent's lifetime (read from port 0 first), so a restart keeps its URLs.
    config = resolveConfig({ cloud: proxy.url, tokenEndpoint: fx.agentClient.tokenEndpoint, clientId: fx.agentClient.clientId, clientSecretFile: join(dir, 'client.secret'), dataDir: join(dir, 'data'), http: `127.0.0.1:${await freeTcpPort()}`, syncInterval: 0.3 });
  });
  afterAll(async () => {
    await agent?.stop();
    await proxy?.close();
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Each request comes from the node that makes it, as on a site LAN (nodes on 127.0.0.4/.5;
  // an unknown machine at 127.0.0.9 asks for its MAC's script).
  const [n0, n1] = NODE_ADDRESSES;
  const bootRequests = (base: string): Array<[from: string, url: string]> => [
    [n0, `${base}/boot/v1/bootscript?mac=02:00:00:00:00:01`],
    [n1, `${base}/boot/v1/bootscript?mac=02:00:00:00:00:02`],
    ['127.0.0.9', `${base}/boot/v1/bootscript?mac=02:00:00:00:77:77`],
    [n0, `${base}/artifacts/sha256/${fx.kernel.sha256}`],
    [n0, `${base}/artifacts/sha256/${fx.initrd.sha256}`],
    [n0, `${base}/cloud-init/x1000c0s0b0n0/meta-data`],
    [n1, `${base}/cloud-init/02:00:00:00:00:02/user-data`],
    [n0, `${base}/cloud-init/x1000c0s0b0n0/vendor-data`],
  ];
  const answers = async (base: string) =>
    Promise.all(bootRequests(base).map(async ([from, u]) => {
      const r = await httpFrom(from, u);
      return `${r.status} ${String(r.headers.etag ?? '')} ${r.body.toString('base64')}`;
    }));

  it('answers every boot request identically with the cloud down, across an agent restart, and catches up after', async () => {
    agent = await startAgent(config, { syncBackoffBaseMs: 100, outboxBackoffBaseMs: 100, outboxBackoffMaxMs: 500 });
    await waitFor('first sync with artifacts', async () => agent.syncer.status().revision === 1 && (await agent.cache.stats()).entries === 2);
    const online = await answers(agent.httpUrl);
    expect(online.every((a) => a.startsWith('200 '))).toBe(true);

    await proxy.down();
    const downAt = Date.now();
    await waitFor('the outage to show', async () => agent.syncer.status().link.up === false);
    expect(await answers(agent.httpUrl)).toEqual(online);
    const hb = await httpFrom(n0, `${agent.httpUrl}/heartbeat`, { method: 'POST', body: JSON.stringify({ xname: 'x1000c0s0b0n0', stage: 'booted', idempotencyKey: 'offline-hb-1' }) });
    expect(hb.status).toBe(202);

    // A restart while the cloud is down: served from disk alone.
    await agent.stop();
    agent = await startAgent(config, { syncBackoffBaseMs: 100, outboxBackoffBaseMs: 100, outboxBackoffMaxMs: 500 });
    expect(await answers(agent.httpUrl)).toEqual(online);
    const status = await waitFor('status to show the outage', async () => {
      const s = (await (await fetch(`${agent.httpUrl}/status`)).json()) as { cloud: { up: boolean | null; since: string; lastError: string | null }; outbox: { depth: number }; snapshot: { revision: number } };
      // The heartbeat waits in the outbox, beside the boot-timeline entries of what was served.
      return s.cloud.up === false && s.outbox.depth >= 1 && agent.outbox.whereIs('offline-hb-1').state === 'pending' ? s : undefined;
    });
    expect(Date.parse(status.cloud.since)).toBeGreaterThanOrEqual(downAt - 1000);
    expect(status.cloud.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    expect(status.snapshot.revision).toBe(1);

    // While down, the site changes in the cloud; when the link returns the agent catches up.
    await fx.setBoot({ selector: { xnames: ['x1000c0s0b0n0'] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 after-outage' });
    await proxy.up();
    await waitFor('catch-up to revision 2', async () => agent.syncer.status().revision === 2 && agent.syncer.status().link.up === true);
    await waitFor('the outbox to drain', async () => agent.outbox.depth === 0);
    const obs = await cloud.gw.aws.clients.doc.send(
      new QueryCommand({ TableName: cloud.gw.aws.tableName, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :p', ExpressionAttributeValues: { ':p': 'SITE#offline#OBS' } }),
    );
    // The heartbeat arrived once; beside it, only the boot timeline of what the agent served.
    expect(obs.Items!.filter((i) => i.kind === 'heartbeat').map((i) => i.idempotencyKey)).toEqual(['offline-hb-1']);
    expect(obs.Items!.filter((i) => i.kind !== 'heartbeat').map((i) => i.kind)).toEqual(obs.Items!.filter((i) => i.kind !== 'heartbeat').map(() => 'boot.timeline'));
    const script = await (await fetch(`${agent.httpUrl}/boot/v1/bootscript?mac=02:00:00:00:00:01`)).text();
    expect(script).toContain('after-outage');
  });
});
