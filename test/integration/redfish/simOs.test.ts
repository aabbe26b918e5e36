/**
 * The BMC simulator's simulated OS against a real agent synced from a test gateway: after a
 * Redfish reset a node fetches its boot script by MAC from its own address (127.77.0.x, which
 * the inventory holds as its IP), HEADs kernel and initrd, and after its boot delay posts the
 * heartbeat with the token from its kernel line; `sim.panic=1` never heartbeats, a node the
 * inventory does not know gets no kernel, a powered-off node stops heartbeating, and the
 * simulator's own record (in-process and GET /simulator/v1/nodes) says when each happened.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootTokenFor } from '../../../bootscript/bootToken.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { SimNodeRecord } from '../../../onprem-agent/redfish/simulator/simOs.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';

const HEARTBEAT_MS = 400;

async function until<T>(what: string, fn: () => T | undefined | null | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('simulated OS: boots from the agent after power-on, heartbeats with its token', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let agent: RunningAgent;
  let fleet: SimulatedFleet;
  let dir: string;
  const A = 'x1000c0s0b0n0';
  const B = 'x1000c0s1b0n0';
  const rec = (i: number): SimNodeRecord => fleet.nodeRecords()[i]!;

  const reset = async (bmc: number, type: string) => {
    const b = fleet.bmcs[bmc]!;
    const res = await fetch(`http://${b.host}:${b.port}/redfish/v1/Systems/${b.systems[0]}/Actions/ComputerSystem.Reset`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${fleet.username}:${fleet.password}`).toString('base64')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ResetType: type }),
    });
    expect(res.status).toBe(204);
  };

  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'simos');
    dir = mkdtempSync(join(tmpdir(), 'skyboot-simos-'));
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    agent = await startAgent(resolveConfig({ cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600 }));
    // Three nodes; the first two become the fixture's nodes (their MAC and address as the simulator has them).
    fleet = await startSimulatedFleet({ count: 3, vendors: ['dmtf'], powerTransitionMs: 50, os: { bootFrom: agent.httpUrl, bootDelayMs: 200, heartbeatIntervalMs: HEARTBEAT_MS } });
    const [n0, n1] = [fleet.bmcs[0]!.nodes[0]!, fleet.bmcs[1]!.nodes[0]!];
    const up = await cloud.gw.gql(`mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { failed errors { path message } } }`, {
      in: [
        { xname: A, site: fx.site, role: 'COMPUTE', nid: 1, arch: 'X86', interfaces: [{ mac: n0.mac, ipAddresses: [n0.ip], network: 'hsn' }] },
        { xname: B, site: fx.site, role: 'COMPUTE', nid: 2, arch: 'X86', interfaces: [{ mac: n1.mac, ipAddresses: [n1.ip], network: 'hsn' }] },
      ],
    });
    expect(up.errors).toBeUndefined();
    await fx.setBoot({ selector: { xnames: [A] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 sim.bootDelay=1' });
    await fx.setBoot({ selector: { xnames: [B] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 sim.panic=1' });
    await agent.syncer.syncOnce();
  }, 60_000);
  afterAll(async () => {
    await fleet?.close();
    await agent?.stop();
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives each node its own 127.77.0.x address and the BMC-reported MAC', () => {
    expect(fleet.bmcs.map((b) => b.nodes[0]!.ip)).toEqual(['127.77.0.1', '127.77.0.2', '127.77.0.3']);
    expect(fleet.nodeRecords().map((r) => r.mac)).toEqual(fleet.bmcs.map((b) => b.nodes[0]!.mac));
  });

  it('after a reset, fetches script, kernel and initrd from its address and heartbeats with the served token after sim.bootDelay', async () => {
    const since = new Date();
    await reset(0, 'ForceRestart');
    const token = bootTokenFor(A, agent.syncer.index!.byXname.get(A)!.boot!);
    const hb = await agent.timeline.waitForHeartbeat(A, token, since, 15_000);
    expect(hb).not.toBeNull();
    const stages = agent.timeline.events(A).filter((e) => Date.parse(e.at) >= since.getTime()).map((e) => e.stage);
    expect(stages.slice(0, 4)).toEqual(['http.script', 'http.kernel', 'http.initrd', 'heartbeat']);
    // The agent records the heartbeat before the node has read the 202.
    const r = await until('A to see its heartbeat accepted', () => (rec(0).lastToken ? rec(0) : null));
    expect(r.lastToken).toBe(token);
    expect(r.poweredOffAt).not.toBeNull();
    expect(r.bootStartedAt!).toBeGreaterThanOrEqual(r.poweredOffAt!);
    // sim.bootDelay=1 on its kernel line: a second from boot start to the heartbeat, not the 200 ms default.
    const firstHb = r.events.filter((e) => e.kind === 'heartbeat' && e.at >= r.bootStartedAt!)[0]!;
    expect(firstHb.at - r.bootStartedAt!).toBeGreaterThanOrEqual(1000);
  });

  it('a node whose kernel line says sim.panic=1 fetches its script but never heartbeats', async () => {
    const boots = rec(1).boots;
    await reset(1, 'ForceRestart');
    const r = await until('B to fail its next boot', () => rec(1).boots > boots && rec(1).events.find((e) => e.kind === 'boot.failed' && e.at >= rec(1).bootStartedAt!) && rec(1));
    expect(r.events.at(-1)!.detail).toMatch(/sim\.panic=1/);
    await new Promise((res) => setTimeout(res, HEARTBEAT_MS * 2));
    expect(agent.timeline.events(B).map((e) => e.stage)).not.toContain('heartbeat');
    expect(agent.timeline.events(B).map((e) => e.stage)).toContain('http.script');
    expect(rec(1).heartbeatSentAt).toBeNull();
  });

  it('a node the inventory does not know gets no kernel and does not heartbeat', async () => {
    const r = await until('node 3 to give up', () => rec(2).events.find((e) => e.kind === 'boot.failed') && rec(2));
    expect(r.events.find((e) => e.kind === 'boot.failed')!.detail).toMatch(/names no kernel/);
    expect(r.heartbeatSentAt).toBeNull();
  });

  it('stops heartbeating once powered off, and the record is served as JSON', async () => {
    await until('A to heartbeat', () => rec(0).heartbeatSentAt);
    await reset(0, 'ForceOff');
    const off = rec(0).poweredOffAt!;
    const count = () => agent.timeline.events(A).filter((e) => e.stage === 'heartbeat').length;
    const before = count();
    await new Promise((res) => setTimeout(res, HEARTBEAT_MS * 3));
    expect(count()).toBe(before);
    expect(rec(0).heartbeatSentAt!).toBeLessThanOrEqual(off);
    const b = fleet.bmcs[2]!;
    const json = (await (await fetch(`http://${b.host}:${b.port}/simulator/v1/nodes`)).json()) as { nodes: SimNodeRecord[] };
    expect(json.nodes.map((n) => n.ip)).toEqual(['127.77.0.1', '127.77.0.2', '127.77.0.3']);
    expect(json.nodes[0]!.poweredOffAt).toBe(off);
  });
});
