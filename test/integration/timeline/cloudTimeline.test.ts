/**
 * A node's boot as the agent sees it reaches the cloud: a real agent synced from a test gateway,
 * a node fetching its boot script by MAC, kernel and initrd over HTTP from its own inventory
 * address (127.0.0.x, node-scoped serving applies), and posting the heartbeat with the token it
 * found on its kernel line; the agent's timeline reporter and outbox deliver the events, and
 * `Component.bootTimeline` shows them, newest last.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootTokenFor, bootTokenFromCmdline } from '../../../bootscript/bootToken.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { httpFrom } from '../../support/httpFrom.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';

const NODE_ADDRESSES: [string, string] = ['127.0.0.61', '127.0.0.62'];

interface TimelineEvent { stage: string; at: string; detail: string | null; bootToken: string | null; agent: string | null }

describe('boot timeline: agent → outbox → Component.bootTimeline', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let agent: RunningAgent;
  let dir: string;

  const timelineOf = async (xname: string, last?: number) => {
    const r = await cloud.gw.gql<{ component: { bootTimeline: TimelineEvent[] } }>(
      `query($x: XName!, $s: String, $l: Int) { component(xname: $x, site: $s) { bootTimeline(last: $l) { stage at detail bootToken agent } } }`,
      { x: xname, s: fx.site, l: last ?? null },
    );
    return r;
  };

  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'timeline', { nodeAddresses: NODE_ADDRESSES });
    dir = mkdtempSync(join(tmpdir(), 'skyboot-timeline-'));
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    agent = await startAgent(resolveConfig({ cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600 }), { outboxBackoffBaseMs: 50 });
    await agent.syncer.syncOnce();
  }, 60_000);
  afterAll(async () => {
    await agent?.stop();
    await cloud?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records script, kernel, initrd and heartbeat on the agent, and serves them from the cloud newest last', async () => {
    const [A, B] = fx.nodes as [SiteFixture['nodes'][number], SiteFixture['nodes'][number]];
    const since = new Date();
    const script = await httpFrom(A.ip, `${agent.httpUrl}/boot/v1/bootscript?mac=${A.mac}`);
    expect(script.status).toBe(200);
    const token = bootTokenFromCmdline(script.text().split('\n').find((l) => l.startsWith('kernel '))!);
    // The token is the node's desired boot state, computed from the snapshot the same way in the cloud.
    const snapNode = agent.syncer.index!.byXname.get(A.xname)!;
    expect(token).toBe(bootTokenFor(A.xname, snapNode.boot!));

    expect((await httpFrom(A.ip, `${agent.httpUrl}/artifacts/sha256/${fx.kernel.sha256}`, { method: 'HEAD' })).status).toBe(200);
    const initrd = await httpFrom(A.ip, `${agent.httpUrl}/artifacts/sha256/${fx.initrd.sha256}`);
    expect(initrd.body.length).toBe(fx.initrd.size);
    // A malformed token is the node's error, named; nothing is recorded for it.
    const bad = await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xname: A.xname, bootToken: 'nope' }) });
    expect(bad.status).toBe(400);
    expect(bad.text()).toMatch(/heartbeat\.bootToken: "nope" is not a boot token/);
    // Another node's address may not heartbeat for A (node-scoped serving, no exemption for the timeline).
    const forged = await httpFrom(B.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xname: A.xname, bootToken: token }) });
    expect(forged.status).toBe(403);
    const waiting = agent.timeline.waitForHeartbeat(A.xname, token!, since, 10_000);
    const hb = await httpFrom(A.ip, `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xname: A.xname, bootToken: token }) });
    expect(hb.status).toBe(202);
    expect((await waiting)?.bootToken).toBe(token);

    expect(agent.timeline.events(A.xname).map((e) => e.stage)).toEqual(['http.script', 'http.kernel', 'http.initrd', 'heartbeat']);
    expect(agent.timeline.events(B.xname)).toEqual([]);

    // The reporter batches for 2 s, then the outbox delivers.
    const deadline = Date.now() + 20_000;
    let events: TimelineEvent[] = [];
    while (Date.now() < deadline) {
      const r = await timelineOf(A.xname);
      expect(r.errors).toBeUndefined();
      events = r.data!.component.bootTimeline;
      if (events.some((e) => e.stage === 'HEARTBEAT')) break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(events.map((e) => e.stage)).toEqual(['HTTP_SCRIPT', 'HTTP_KERNEL', 'HTTP_INITRD', 'HEARTBEAT']);
    expect(events[0]!.bootToken).toBe(token);
    expect(events[3]!.bootToken).toBe(token);
    expect(events[1]!.detail).toBe('HEAD');
    expect(events[2]!.detail).toBe(`${fx.initrd.size} bytes`);
    expect(events.every((e, i) => i === 0 || e.at >= events[i - 1]!.at)).toBe(true);

    const lastTwo = await timelineOf(A.xname, 2);
    expect(lastTwo.data!.component.bootTimeline.map((e) => e.stage)).toEqual(['HTTP_INITRD', 'HEARTBEAT']);
    expect((await timelineOf(B.xname)).data!.component.bootTimeline).toEqual([]);
  }, 60_000);

  it('refuses a bad `last` naming it, and a malformed timeline report naming the field', async () => {
    const r = await timelineOf(fx.nodes[0]!.xname, 0);
    expect(r.errors?.[0]?.message).toMatch(/last.*0 must be an integer from 1 to 100/);
    const rejected = await cloud.gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>(
      `mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { outcome error } }`,
      { b: [{ idempotencyKey: 'tl-bad-1', kind: 'boot.timeline', payload: { events: [{ xname: fx.nodes[0]!.xname, stage: 'bios.post', at: new Date().toISOString() }] } }] },
      fx.agentToken,
    );
    expect(rejected.data!.reportObservations[0]!.outcome).toBe('REJECTED');
    expect(rejected.data!.reportObservations[0]!.error).toMatch(/payload\.events\[0\]\.stage.*"bios\.post" is not one of dhcp\.offer/);
  });
});
