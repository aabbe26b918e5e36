/**
 * agent.status: a real agent (synced from a test gateway, its own outbox) reports itself, and
 * `Site.agents` shows what it reported — its snapshot revision against the site's, nodes, cache,
 * outbox, services — with the cloud's own time of last contact. Reports are validated on both
 * sides (allow-listed keys, errors naming the path), an older report never replaces a newer one,
 * and another site's agent can neither see nor write this site's agents.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { agentStatusReport } from '../../../onprem-agent/run/statusReport.js';
import { startTestCloud, type TestCloud } from './cloud.js';
import { siteFixture, type SiteFixture } from './siteFixture.js';

const REPORT = `mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { idempotencyKey outcome error } }`;
const AGENTS = `query($s: String!) { site(name: $s) { snapshotRevision agents { name identity version startedAt reportedAt lastContactAt snapshotRevision nodes lastSyncAt
  outboxDepth outboxBytes outboxOldestAt outboxParked cacheArtifacts cacheBytes cacheMissing dhcp tftp iscsi } } }`;

interface SiteAgentView {
  name: string; identity: string; version: string; startedAt: string; reportedAt: string; lastContactAt: string; snapshotRevision: number | null; nodes: number; lastSyncAt: string | null;
  outboxDepth: number; outboxBytes: number; outboxOldestAt: string | null; outboxParked: number; cacheArtifacts: number; cacheBytes: number; cacheMissing: number; dhcp: string; tftp: boolean; iscsi: string;
}

describe('agent.status → Site.agents (gateway, a real agent and its outbox)', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let other: SiteFixture;
  let agent: RunningAgent;
  let dir: string;
  let seq = 0;

  const agentsOf = async (site: string, token = cloud.gw.tokens.viewer) => {
    const r = await cloud.gw.gql<{ site: { snapshotRevision: number | null; agents: SiteAgentView[] } | null }>(AGENTS, { s: site }, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.site;
  };
  const report = async (payload: unknown, at: string, token = fx.agentToken) => {
    const r = await cloud.gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>(REPORT, { b: [{ idempotencyKey: `status-${++seq}`, kind: 'agent.status', at, payload }] }, token);
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data!.reportObservations[0]!;
  };
  const payloadAt = (name: string, revision: number) => ({
    agent: name, version: '9.9.9', startedAt: new Date().toISOString(),
    snapshot: { revision, nodes: 2, lastPullAt: null }, outbox: { depth: 0, bytes: 0, oldestEnqueuedAt: null, parked: 0 },
    cache: { entries: 0, bytes: 0, missing: 0 }, services: { dhcp: 'off', tftp: false, iscsi: 'off' },
  });

  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'status-a');
    other = await siteFixture(cloud.gw, 'status-b', { imageName: 'compute-b' });
    dir = mkdtempSync(join(tmpdir(), 'skyboot-agent-status-'));
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    agent = await startAgent(
      resolveConfig({ cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600 }),
      { agentName: 'site-a-agent1', outboxBackoffBaseMs: 50, statusReportIntervalMs: 300 },
    );
    await agent.syncer.syncOnce();
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows the running agent as it reported itself: the site\'s revision, its nodes and cache, the cloud\'s time of contact', async () => {
    const since = Date.now();
    const deadline = Date.now() + 20_000;
    let seen: { snapshotRevision: number | null; agents: SiteAgentView[] } | null = null;
    while (Date.now() < deadline) {
      seen = await agentsOf(fx.site);
      const a = seen?.agents[0];
      // Reported after the artifacts were cached (the first report may predate the download).
      if (a && a.cacheArtifacts === 2 && Date.parse(a.lastContactAt) >= since) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const status = await agent.status();
    expect(seen!.snapshotRevision).toBe(status.snapshot.revision);
    expect(seen!.agents).toHaveLength(1);
    const a = seen!.agents[0]!;
    expect(a).toMatchObject({
      name: 'site-a-agent1', startedAt: status.agent.startedAt, snapshotRevision: status.snapshot.revision, nodes: fx.nodes.length,
      cacheArtifacts: 2, cacheBytes: fx.kernel.size + fx.initrd.size, cacheMissing: 0, outboxParked: 0, dhcp: 'off', tftp: false, iscsi: 'off',
    });
    expect(a.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(a.identity).toBeTruthy();
    expect(Date.parse(a.lastContactAt)).toBeGreaterThanOrEqual(Date.parse(a.reportedAt));
    expect(Date.parse(a.lastContactAt)).toBeLessThanOrEqual(Date.now());
    // The other site has no agent reporting yet, and its agent cannot see this site.
    expect((await agentsOf(other.site))!.agents).toEqual([]);
    expect(await agentsOf(fx.site, other.agentToken)).toBeNull();
  }, 40_000);

  it('keeps the newer of two reports whatever order they arrive in; a report lands on its sender\'s site only', async () => {
    const t = Date.now();
    expect((await report(payloadAt('site-a-agent2', 7), new Date(t).toISOString())).outcome).toBe('STORED');
    // Older, delivered late (an outbox redelivery): stored as an observation, not applied.
    expect((await report(payloadAt('site-a-agent2', 3), new Date(t - 60_000).toISOString())).outcome).toBe('STORED');
    const two = (await agentsOf(fx.site))!.agents.find((x) => x.name === 'site-a-agent2')!;
    expect(two.snapshotRevision).toBe(7);
    expect(two.reportedAt).toBe(new Date(t).toISOString());
    // Site B's agent naming site A's agent: it reports into its own site, never A's.
    expect((await report(payloadAt('site-a-agent2', 1), new Date(t + 1000).toISOString(), other.agentToken)).outcome).toBe('STORED');
    expect((await agentsOf(fx.site))!.agents.find((x) => x.name === 'site-a-agent2')!.snapshotRevision).toBe(7);
    expect((await agentsOf(other.site))!.agents.map((x) => [x.name, x.snapshotRevision])).toEqual([['site-a-agent2', 1]]);
  });

  it('refuses a malformed report naming the path, the value and the reason, and keeps what was stored', async () => {
    // agent2 is the one the bad reports name (agent1, running, keeps reporting meanwhile).
    const storedAgent2 = async () => (await agentsOf(fx.site))!.agents.find((x) => x.name === 'site-a-agent2');
    const before = await storedAgent2();
    expect(before).toBeDefined();
    const cases: [unknown, RegExp][] = [
      [{ ...payloadAt('site-a-agent2', 9), extra: 1 }, /payload\.extra: 1 is not a key of agent\.status \(allowed: agent, version/],
      [{ ...payloadAt('site-a-agent2', 9), outbox: { depth: -1, bytes: 0, oldestEnqueuedAt: null, parked: 0 } }, /payload\.outbox\.depth: -1 is not a count/],
      [{ ...payloadAt('site-a-agent2', 9), services: { dhcp: 'relay', tftp: false, iscsi: 'off' } }, /payload\.services\.dhcp: "relay" is not one of proxy, full, off/],
      [{ ...payloadAt('Not A Label', 9) }, /payload\.agent: "Not A Label" must be a DNS label/],
      [{ ...payloadAt('site-a-agent2', 9), snapshot: undefined }, /payload\.snapshot: undefined is not an object/],
    ];
    for (const [payload, message] of cases) {
      const r = await report(payload, new Date(Date.now() + 3_600_000).toISOString());
      expect(r.outcome).toBe('REJECTED');
      expect(r.error).toMatch(message);
    }
    expect(await storedAgent2()).toEqual(before);
  });

  it('builds the report from the agent\'s own status, validated as the cloud validates it', async () => {
    const s = await agent.status();
    const r = agentStatusReport('site-a-agent1', s);
    expect(r.outbox.depth).toBe(s.outbox.depth);
    expect(r.cache).toEqual({ entries: s.cache.entries, bytes: s.cache.bytes, missing: s.cache.missing.length });
    expect(() => agentStatusReport('bad name', s)).toThrow(/agent\.status\.agent: "bad name" must be a DNS label/);
  });
});
