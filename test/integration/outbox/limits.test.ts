/**
 * The outbox's limits against the real gateway and DynamoDB Local: a 7 MB entry (more than the
 * gateway's 6 MiB body limit) neither blocks the heartbeats queued behind it nor is retried for
 * ever; it is parked with the cloud's reason, visible in the agent's status; a 7 MB discovery
 * report from `discover` is split into parts the cloud accepts, each once.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { outboxSinkFor } from '../../../onprem-agent/orchestrator/discoverySink.js';
import { Outbox } from '../../../onprem-agent/outbox/outbox.js';
import { startAgent } from '../../../onprem-agent/run/agent.js';
import { CloudClient } from '../../../onprem-agent/sync/cloudClient.js';
import { MAX_REQUEST_BODY_BYTES } from '../../../schema/requestLimits.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import { httpFrom } from '../../support/httpFrom.js';

const SEVEN_MB = 7 * 1024 * 1024;

describe('outbox limits against the real gateway', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let dir: string;
  beforeAll(async () => {
    cloud = await startTestCloud();
    // The nodes live on loopback addresses, so the flood below can come from the nodes themselves.
    fx = await siteFixture(cloud.gw, 'limits', { nodeAddresses: ['127.0.0.2', '127.0.0.3'] });
    dir = mkdtempSync(join(tmpdir(), 'skyboot-limits-'));
  });
  afterAll(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const storedKeys = async (): Promise<string[]> => {
    const obs = await cloud.gw.aws.clients.doc.send(
      new QueryCommand({ TableName: cloud.gw.aws.tableName, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :p', ExpressionAttributeValues: { ':p': 'SITE#limits#OBS' } }),
    );
    return obs.Items!.map((i) => String(i.idempotencyKey)).sort();
  };

  it('a 7 MB entry the gateway refuses is parked with its reason; the heartbeats behind it are delivered', async () => {
    const outboxDir = join(dir, 'refused', 'outbox');
    // An agent whose batch limit is above the cloud's (as if the cloud sat behind a smaller limit).
    const outbox = await new Outbox(outboxDir, new CloudClient({ url: cloud.gw.url, token: fx.agentToken }), { maxBatchBytes: 8 * 1024 * 1024 }).init();
    await outbox.enqueue('heartbeat', { xname: fx.nodes[0]!.xname, seq: 0 }, 'limits-hb-0');
    await outbox.enqueue('inventory.reportDiscovery', { endpoints: [], components: [], pad: 'x'.repeat(SEVEN_MB) }, 'limits-huge');
    for (let i = 1; i <= 3; i++) await outbox.enqueue('heartbeat', { xname: fx.nodes[0]!.xname, seq: i }, `limits-hb-${i}`);
    await outbox.drain();
    expect(await storedKeys()).toEqual(['limits-hb-0', 'limits-hb-1', 'limits-hb-2', 'limits-hb-3']);
    const s = await outbox.stats();
    expect(s).toMatchObject({ depth: 0, delivered: 4, rejected: 1, parked: { count: 1 } });
    expect(s.parked.newest[0]).toMatchObject({ idempotencyKey: 'limits-huge', by: 'cloud', reason: expect.stringContaining(`HTTP 413: request exceeds Lambda's ${MAX_REQUEST_BODY_BYTES}-byte invoke payload limit`) });
  }, 60_000);

  it("the running agent parks an entry no request can carry and shows it in its status; heartbeats still go", async () => {
    const dataDir = join(dir, 'agent');
    const pending = join(dataDir, 'outbox', 'pending');
    mkdirSync(pending, { recursive: true });
    // A 7 MB entry an earlier agent version (without byte limits) left behind.
    const old = { idempotencyKey: 'limits-left-behind', kind: 'inventory.reportDiscovery', at: new Date(0).toISOString(), enqueuedAt: new Date(0).toISOString(), payload: { pad: 'x'.repeat(SEVEN_MB) } };
    writeFileSync(join(pending, '000000000000001-000000-0000000000000000.json'), JSON.stringify(old));
    const tokenFile = join(dir, 'agent.token');
    writeFileSync(tokenFile, fx.agentToken);
    const agent = await startAgent(resolveConfig({ cloud: cloud.gw.url, tokenFile, dataDir, http: '127.0.0.1:0', tftp: 'off', dhcp: 'off', iscsi: 'off', syncInterval: '30' }), { outboxBackoffBaseMs: 100, outboxBackoffMaxMs: 500 });
    try {
      await agent.outbox.enqueue('heartbeat', { xname: fx.nodes[1]!.xname, seq: 9 }, 'limits-agent-hb');
      const deadline = Date.now() + 20_000;
      while (!(await storedKeys()).includes('limits-agent-hb') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await storedKeys()).toContain('limits-agent-hb');
      type Status = { outbox: { depth: number; parked: { count: number; newest: { idempotencyKey: string; by: string; reason: string }[] } } };
      // The running agent enqueues entries of its own meanwhile (boot-timeline reports among
      // them): what matters is that they drain past the parked one, so wait for an empty queue.
      let status = (await (await fetch(`${agent.httpUrl}/status`)).json()) as Status;
      while (status.outbox.depth > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        status = (await (await fetch(`${agent.httpUrl}/status`)).json()) as Status;
      }
      expect(status.outbox.parked.count).toBe(1);
      expect(status.outbox.parked.newest[0]).toMatchObject({ idempotencyKey: 'limits-left-behind', by: 'agent', reason: expect.stringMatching(/larger than one request to the cloud may carry/) });
      expect(status.outbox.depth).toBe(0);
    } finally {
      await agent.stop();
    }
  }, 60_000);

  it('a flood of heartbeats meets the byte budget: the agent answers 503 beyond it and status counts the refusals', async () => {
    const dataDir = join(dir, 'flood');
    // First a pull, so the agent knows its nodes; then the cloud is gone (an outage): nothing
    // drains, and the agent serves from its stored snapshot.
    const tokenFile = join(dir, 'flood.token');
    writeFileSync(tokenFile, fx.agentToken);
    const online = await startAgent(resolveConfig({ cloud: cloud.gw.url, tokenFile, dataDir, http: '127.0.0.1:0', tftp: 'off', dhcp: 'off', iscsi: 'off', syncInterval: '30' }));
    try {
      const deadline = Date.now() + 20_000;
      while (!online.syncer.index && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(online.syncer.index?.stored.snapshot.nodes?.length).toBeGreaterThanOrEqual(2);
    } finally {
      await online.stop();
    }
    const agent = await startAgent(resolveConfig({ dataDir, http: '127.0.0.1:0', tftp: 'off', dhcp: 'off', iscsi: 'off', outboxMaxMb: '0.05' }));
    try {
      const codes: number[] = [];
      let refusal = '';
      // Both nodes post in turn: 20 each stays inside the per-address rate limit, so what refuses is the budget.
      for (let i = 0; i < 40; i++) {
        const node = fx.nodes[i % 2]!;
        const res = await httpFrom(node.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xname: node.xname, stage: 'flood', note: 'n'.repeat(2000) }) });
        codes.push(res.status);
        if (res.status === 503) refusal = res.text();
      }
      const accepted = codes.filter((c) => c === 202).length;
      expect(accepted).toBeGreaterThan(10);
      expect(codes.slice(accepted).every((c) => c === 503)).toBe(true);
      expect(refusal).toMatch(/^outbox full: \d+ bytes pending of a 52429-byte budget/);
      const s = await agent.status();
      expect(s.outbox).toMatchObject({ depth: accepted, refused: 40 - accepted, maxBytes: 52429 });
      expect(s.outbox.bytes).toBeLessThanOrEqual(52429);
    } finally {
      await agent.stop();
    }
  }, 60_000);

  it('a 7 MB discovery report is split into parts; the cloud applies every part, once', async () => {
    const dataDir = join(dir, 'discover');
    mkdirSync(join(dataDir, 'outbox', 'pending'), { recursive: true });
    const tokenFile = join(dir, 'discover.token');
    writeFileSync(tokenFile, fx.agentToken);
    // 70 nodes with large firmware inventories: about 7 MB as one report.
    const firmware = Array.from({ length: 220 }, (_, i) => ({ name: `component-${i}-${'n'.repeat(200)}`, version: `v${i}-${'v'.repeat(240)}` }));
    const components = Array.from({ length: 70 }, (_, i) => ({
      xname: `x2000c0s${i}b0n0`,
      state: 'ON',
      interfaces: [{ mac: `02:aa:00:00:00:${i.toString(16).padStart(2, '0')}` }],
      hardware: { serialNumber: `SN${i}`, processors: [], memory: [], accelerators: [], nics: [], firmware },
    }));
    const payload = { endpoints: components.map((_, i) => ({ xname: `x2000c0s${i}b0`, address: `10.2.0.${i + 1}:443`, discoveryStatus: 'OK' })), components };
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeGreaterThan(SEVEN_MB);
    const env = { ...process.env, SKYBOOT_AGENT_CLOUD: cloud.gw.url, SKYBOOT_AGENT_TOKEN_FILE: tokenFile };
    const sink = (await outboxSinkFor(dataDir, env))!;
    await sink.enqueue('inventory.reportDiscovery', payload, 'redfish-discovery-limits');
    expect(sink.note()).toMatch(/^report sent to .*\/graphql: \d+ parts: \d+ delivered \(STORED\)$/);
    const parts = Number(/(\d+) parts/.exec(sink.note())![1]);
    expect(parts).toBeGreaterThanOrEqual(14);
    const keys = (await storedKeys()).filter((k) => k.startsWith('redfish-discovery-limits'));
    expect(keys).toHaveLength(parts);
    for (const x of ['x2000c0s0b0n0', 'x2000c0s69b0n0']) {
      const r = await cloud.gw.gql<{ component: { site: string; hardware: { firmware: unknown[] } | null } | null }>('query($x: XName!) { component(xname: $x, site: "limits") { site hardware { firmware { name } } } }', { x });
      expect(r.errors).toBeUndefined();
      expect(r.data!.component).toMatchObject({ site: 'limits' });
      expect(r.data!.component!.hardware!.firmware).toHaveLength(220);
    }
    // The same findings again: the same parts, each answered DUPLICATE.
    const again = (await outboxSinkFor(dataDir, env))!;
    await again.enqueue('inventory.reportDiscovery', payload, 'redfish-discovery-limits');
    expect(again.note()).toMatch(new RegExp(`${parts} parts: ${parts} delivered \\(DUPLICATE\\)$`));
  }, 120_000);
});
