/**
 * The agent's rollout operator against a simulated site of 44 nodes (rollingSite.ts): each node has
 * its own simulated BMC and OS, is in the inventory with its boot MAC and its own 127.77.x.y
 * address, and is power-cycled by the agent's real Redfish power path. What each test asserts comes
 * from the simulator's own record of power actions, served scripts and heartbeats, checked against
 * the session's node records and the nodes' boot state in the cloud:
 *   the window (maxConcurrent) holds by both clocks, canaries go first and alone, a held node waits
 *   while the others go on, a panicking image fails validation and is rolled back until the session
 *   pauses, and a staged session changes nothing a node is served until applyStaged.
 */
import { firstPowerOff, maxOverlap, outOfService, startRollingSite, until, type RollingNode, type RollingSite, type SessionNodeRecord } from './rollingSite.js';

const COUNT = 44;
const ZERO = { total: 0, pending: 0, waiting: 0, inProgress: 0, succeeded: 0, failed: 0, rolledBack: 0, staged: 0, superseded: 0 };

describe('rolling reboots on a simulated site: the agent rolls real simulated nodes through sessions', () => {
  let site: RollingSite;
  const sha = (url: string | null) => url?.split('/').pop() ?? null;
  const slice = (from: number, to: number): RollingNode[] => site.nodes.slice(from, to);
  const limitOf = (nodes: RollingNode[]) => nodes.map((n) => n.xname).join(',');
  const byXname = (records: SessionNodeRecord[]) => new Map(records.map((r) => [r.xname, r]));
  const resetCounts = (nodes: RollingNode[]) => new Map(nodes.map((n) => [n.xname, site.resets(n).length]));
  const newResets = (n: RollingNode, before: Map<string, number>) => site.resets(n).slice(before.get(n.xname));

  beforeAll(async () => {
    // Short rounds so freed slots are claimed soon; the operator also wakes when a node settles.
    process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL = '0.5';
    site = await startRollingSite({ site: 'rolling', count: COUNT, bootDelayMs: 300 });
    await site.putTemplate('to-b', site.imageB, 'console=ttyS0');
    await site.putTemplate('to-a', site.imageA, 'console=ttyS0');
    // An image that never comes up: the simulated OS panics before its heartbeat.
    await site.putTemplate('panic', site.imageA, 'console=ttyS0 sim.panic=1');
  }, 150_000);
  afterAll(async () => {
    delete process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL;
    await site?.close();
  });

  it('REBOOT with maxConcurrent 4: never more than 4 nodes out at once, by the simulator and by the session; every node validates on B', async () => {
    const before = resetCounts(site.nodes);
    const t0 = Date.now();
    const s = await site.createSession({ template: 'to-b', operation: 'REBOOT', maxConcurrent: 4, bootTimeoutSeconds: 20 });
    expect(s.status).toBe('RUNNING');
    const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 150_000);
    expect(done.status).toBe('COMPLETE');
    expect(done.counts).toEqual({ ...ZERO, total: COUNT, succeeded: COUNT });

    const records = await site.sessionNodes(s.id);
    expect(records).toHaveLength(COUNT);
    for (const r of records) expect(r).toMatchObject({ phase: 'SUCCEEDED', attempts: 1, previousImageId: site.imageA, targetImageId: site.imageB, error: null });
    const sessionIntervals = records.map((r) => ({ from: Date.parse(r.startedAt!), to: Date.parse(r.endedAt!) }));
    const bySession = maxOverlap(sessionIntervals);
    expect(bySession).toBeLessThanOrEqual(4);
    // The window was used, not just respected by rolling one node at a time.
    expect(bySession).toBeGreaterThan(1);

    const states = await site.bootStates();
    const simIntervals = [];
    const rec = byXname(records);
    for (const n of site.nodes) {
      // What the agent serves the node now is B: its kernel and B's token for this node.
      const script = await site.bootScriptAsNode(n);
      expect(sha(script.kernelUrl)).toBe(site.kernelB.sha256);
      expect(script.token).not.toBeNull();
      // One power cycle on the node's BMC, then a boot whose heartbeat carried B's token.
      expect(newResets(n, before)).toEqual(['PowerCycle']);
      const r = site.record(n);
      const { interval } = outOfService(n.xname, r, t0, script.token!);
      expect(interval).not.toBeNull();
      expect(r.lastToken).toBe(script.token);
      simIntervals.push(interval!);
      // The session's record of the node spans what the simulator saw.
      expect(Date.parse(rec.get(n.xname)!.startedAt!)).toBeLessThanOrEqual(interval!.from);
      expect(Date.parse(rec.get(n.xname)!.endedAt!)).toBeGreaterThanOrEqual(interval!.to);
      expect(states.get(n.xname)).toMatchObject({ desired: { imageId: site.imageB }, actual: { imageId: site.imageB } });
    }
    expect(maxOverlap(simIntervals)).toBeLessThanOrEqual(4);
    // The agent's own count of what it did, as its status shows it.
    expect((await site.agent.status()).rollout?.sessions[s.id]).toEqual({ claimed: COUNT, drainedAhead: 0, resumedAhead: 0, powerCycled: COUNT, validated: COUNT, failed: 0, rolledBack: 0 });
  }, 180_000);

  it('canary 2: no third node is power-cycled before both canaries validated', async () => {
    const nodes = slice(0, 8);
    const before = resetCounts(nodes);
    const t0 = Date.now();
    const s = await site.createSession({ template: 'to-a', operation: 'REBOOT', limit: limitOf(nodes), maxConcurrent: 4, canary: 2, bootTimeoutSeconds: 20 });
    const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 90_000);
    expect(done.status).toBe('COMPLETE');
    expect(done.counts).toEqual({ ...ZERO, total: 8, succeeded: 8 });

    const records = await site.sessionNodes(s.id);
    const canaries = records.filter((r) => r.canary);
    expect(canaries).toHaveLength(2);
    const canariesValidated = Math.max(...canaries.map((c) => Date.parse(c.endedAt!)));
    const canaryHeartbeats: number[] = [];
    for (const c of canaries) {
      const n = nodes.find((x) => x.xname === c.xname)!;
      const { interval } = outOfService(n.xname, site.record(n), t0, (await site.bootScriptAsNode(n)).token!);
      canaryHeartbeats.push(interval!.to);
    }
    for (const r of records.filter((x) => !x.canary)) {
      const n = nodes.find((x) => x.xname === r.xname)!;
      expect(Date.parse(r.startedAt!)).toBeGreaterThanOrEqual(canariesValidated);
      // By the simulator's clock: its power-off came after both canaries were up on the target.
      expect(firstPowerOff(site.record(n), t0)).toBeGreaterThanOrEqual(Math.max(...canaryHeartbeats));
    }
    for (const n of nodes) {
      expect(newResets(n, before)).toEqual(['PowerCycle']);
      expect(sha((await site.bootScriptAsNode(n)).kernelUrl)).toBe(site.kernelA.sha256);
    }
  }, 120_000);

  it('respectWorkload: a held node is not power-cycled while held, the others go on, and it goes once released', async () => {
    const nodes = slice(8, 14);
    // The first node in session order (xname order: x3000c0s10b0n0 sorts before x3000c0s8b0n0), held
    // just before the session starts: the first claim round meets it.
    const held = [...nodes].sort((a, b) => (a.xname < b.xname ? -1 : 1))[0]!;
    const before = resetCounts(nodes);
    const desiredBefore = (await site.bootStates()).get(held.xname)!.desired;
    const t0 = Date.now();
    const hold = await site.op<{ setWorkloadHold: { xname: string }[] }>(`mutation($x: [XName!]!, $s: String) { setWorkloadHold(xnames: $x, hold: true, site: $s) { xname } }`, { x: [held.xname], s: site.fx.site });
    expect(hold.setWorkloadHold.map((c) => c.xname)).toEqual([held.xname]);
    const s = await site.createSession({ template: 'to-a', operation: 'REBOOT', limit: limitOf(nodes), maxConcurrent: 2, respectWorkload: true, bootTimeoutSeconds: 20 });
    const waiting = await site.waitForSession(s.id, 'to roll every node but the held one', (x) => x.counts.succeeded === nodes.length - 1, 90_000);
    expect(waiting.counts).toMatchObject({ total: 6, succeeded: 5, waiting: 1, inProgress: 0, pending: 0 });
    expect(byXname(await site.sessionNodes(s.id)).get(held.xname)).toMatchObject({ phase: 'WAITING', startedAt: null });
    expect(newResets(held, before)).toEqual([]);
    expect(site.record(held).events.filter((e) => e.at >= t0 && e.kind === 'power.off')).toEqual([]);
    expect((await site.bootStates()).get(held.xname)).toMatchObject({ workloadHold: true, desired: desiredBefore });

    const releasedAt = Date.now();
    await site.op(`mutation($x: [XName!]!, $s: String) { setWorkloadHold(xnames: $x, hold: false, site: $s) { xname } }`, { x: [held.xname], s: site.fx.site });
    const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 60_000);
    expect(done.status).toBe('COMPLETE');
    expect(done.counts).toEqual({ ...ZERO, total: 6, succeeded: 6 });
    const rec = byXname(await site.sessionNodes(s.id)).get(held.xname)!;
    expect(rec.phase).toBe('SUCCEEDED');
    expect(Date.parse(rec.startedAt!)).toBeGreaterThanOrEqual(releasedAt);
    expect(newResets(held, before)).toEqual(['PowerCycle']);
    const { interval, poweredOff } = outOfService(held.xname, site.record(held), t0, (await site.bootScriptAsNode(held)).token!);
    expect(poweredOff).toBeGreaterThanOrEqual(releasedAt);
    expect(interval).not.toBeNull();
    for (const n of nodes.filter((x) => x !== held)) expect(newResets(n, before)).toEqual(['PowerCycle']);
  }, 120_000);

  describe('an image that panics (sim.panic=1) with rollback', () => {
    it('fails validation on its canaries, which are rolled back onto their previous image; the session pauses and no other node is touched', async () => {
      const nodes = slice(14, 22);
      const previous = new Map<string, string>();
      for (const n of nodes) previous.set(n.xname, (await site.bootScriptAsNode(n)).token!);
      const before = resetCounts(nodes);
      const t0 = Date.now();
      const s = await site.createSession({ template: 'panic', operation: 'REBOOT', limit: limitOf(nodes), maxConcurrent: 4, canary: 2, rollback: true, maxFailures: 2, bootTimeoutSeconds: 5 });
      const paused = await site.waitForSession(s.id, 'PAUSED with its canaries settled', (x) => x.status !== 'RUNNING' && x.counts.inProgress === 0, 60_000);
      expect(paused.status).toBe('PAUSED');
      expect(paused.statusReason).toMatch(/^canary x3000c0s\d+b0n0(, x3000c0s\d+b0n0)? failed validation$/);
      expect(paused.counts).toEqual({ ...ZERO, total: 8, rolledBack: 2, pending: 6 });
      // Each canary: cycled onto the target, which never validated, and back onto its previous boot.
      expect((await site.agent.status()).rollout?.sessions[s.id]).toEqual({ claimed: 2, drainedAhead: 0, resumedAhead: 0, powerCycled: 4, validated: 0, failed: 0, rolledBack: 2 });

      const records = await site.sessionNodes(s.id);
      const states = await site.bootStates();
      for (const r of records) {
        const n = nodes.find((x) => x.xname === r.xname)!;
        if (r.canary) {
          expect(r).toMatchObject({ phase: 'ROLLED_BACK', previousImageId: site.imageB, targetImageId: site.imageA, error: { step: 'heartbeat' } });
          expect(r.error!.message).toContain(`rolled back to ${site.imageB}`);
          // Two cycles: onto the panicking target, and back onto the previous boot, which heartbeated.
          expect(newResets(n, before)).toEqual(['PowerCycle', 'PowerCycle']);
          const events = site.record(n).events.filter((e) => e.at >= t0);
          expect(events.some((e) => e.kind === 'boot.failed' && e.detail === 'kernel panic (sim.panic=1)')).toBe(true);
          expect(site.record(n).lastToken).toBe(previous.get(n.xname));
          expect(events.filter((e) => e.kind === 'heartbeat').every((e) => e.detail === previous.get(n.xname))).toBe(true);
          expect(states.get(n.xname)).toMatchObject({ desired: { imageId: site.imageB }, actual: { imageId: site.imageB } });
        } else {
          expect(r).toMatchObject({ phase: 'PENDING', attempts: 0, startedAt: null });
          expect(newResets(n, before)).toEqual([]);
        }
        // Every node of the session is served its previous boot again.
        expect((await site.bootScriptAsNode(n)).token).toBe(previous.get(n.xname));
      }
      expect((await site.op<{ cancelBootSession: { status: string } }>('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id })).cancelBootSession.status).toBe('CANCELLED');
    }, 90_000);

    it('without canaries, rolls back every node it touched and pauses at maxFailures', async () => {
      const nodes = slice(22, 28);
      const previous = new Map<string, string>();
      for (const n of nodes) previous.set(n.xname, (await site.bootScriptAsNode(n)).token!);
      const before = resetCounts(nodes);
      const s = await site.createSession({ template: 'panic', operation: 'REBOOT', limit: limitOf(nodes), maxConcurrent: 3, rollback: true, maxFailures: 3, bootTimeoutSeconds: 5 });
      // The reason states every failure, those of nodes still in flight at the pause included.
      const paused = await site.waitForSession(s.id, 'PAUSED with nothing in flight and every failure in its reason', (x) => x.status !== 'RUNNING' && x.counts.inProgress === 0 && x.statusReason === `paused at maxFailures: ${x.counts.rolledBack} of 6 nodes failed`, 60_000);
      expect(paused.status).toBe('PAUSED');
      expect(paused.counts.rolledBack).toBeGreaterThanOrEqual(3);
      const did = paused.counts.rolledBack;
      expect((await site.agent.status()).rollout?.sessions[s.id]).toEqual({ claimed: did, drainedAhead: 0, resumedAhead: 0, powerCycled: 2 * did, validated: 0, failed: 0, rolledBack: did });
      expect(paused.counts).toMatchObject({ total: 6, succeeded: 0, failed: 0, inProgress: 0, pending: 6 - paused.counts.rolledBack });

      const states = await site.bootStates();
      for (const r of await site.sessionNodes(s.id)) {
        const n = nodes.find((x) => x.xname === r.xname)!;
        if (r.phase === 'PENDING') {
          expect(newResets(n, before)).toEqual([]);
          continue;
        }
        expect(r).toMatchObject({ phase: 'ROLLED_BACK', previousImageId: site.imageB, error: { step: 'heartbeat' } });
        expect(newResets(n, before)).toEqual(['PowerCycle', 'PowerCycle']);
        expect(site.record(n).lastToken).toBe(previous.get(n.xname));
        expect(states.get(n.xname)).toMatchObject({ actual: { imageId: site.imageB }, desired: { imageId: site.imageB } });
      }
      await site.op('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id });
    }, 90_000);
  });

  it('stage: true changes no boot script until applyStaged, which rolls the staged nodes it names', async () => {
    const nodes = slice(28, 34);
    const [first, rest] = [nodes.slice(0, 3), nodes.slice(3)];
    const served = new Map<string, string>();
    for (const n of nodes) served.set(n.xname, (await site.bootScriptAsNode(n)).token!);
    const before = resetCounts(nodes);
    const created = new Date().toISOString();
    const s = await site.createSession({ template: 'to-a', operation: 'REBOOT', limit: limitOf(nodes), stage: true, maxConcurrent: 3, bootTimeoutSeconds: 20 });
    expect(s).toMatchObject({ status: 'RUNNING', counts: { ...ZERO, total: 6, staged: 6 } });
    const states = await site.bootStates();
    for (const n of nodes) expect(states.get(n.xname)).toMatchObject({ desired: { imageId: site.imageB }, staged: { imageId: site.imageA } });
    // Two pulls of the agent after the session was created: whatever it changed has reached the agent.
    let pulls = 0;
    let lastPull = created;
    await until('two agent pulls after the session was created', async () => {
      const at = (await site.agent.status()).snapshot.lastPullAt;
      if (at && at > lastPull) {
        pulls++;
        lastPull = at;
      }
      return pulls >= 2;
    }, 20_000);
    for (const n of nodes) {
      expect((await site.bootScriptAsNode(n)).token).toBe(served.get(n.xname));
      expect(newResets(n, before)).toEqual([]);
    }

    const applied = await site.op<{ applyStaged: { succeeded: string[]; failed: string[]; ignored: string[] } }>('mutation($x: [XName!]!, $s: String) { applyStaged(xnames: $x, site: $s) { succeeded failed ignored } }', { x: first.map((n) => n.xname), s: site.fx.site });
    expect(applied.applyStaged).toEqual({ succeeded: first.map((n) => n.xname), failed: [], ignored: [] });
    await site.waitForSession(s.id, 'to roll the applied nodes', (x) => x.counts.succeeded === 3 && x.counts.inProgress === 0, 60_000);
    const records = byXname(await site.sessionNodes(s.id));
    for (const n of first) {
      expect(records.get(n.xname)).toMatchObject({ phase: 'SUCCEEDED', targetImageId: site.imageA });
      const script = await site.bootScriptAsNode(n);
      expect(sha(script.kernelUrl)).toBe(site.kernelA.sha256);
      expect(script.token).not.toBe(served.get(n.xname));
      expect(site.record(n).lastToken).toBe(script.token);
      expect(newResets(n, before)).toEqual(['PowerCycle']);
    }
    for (const n of rest) {
      expect(records.get(n.xname)).toMatchObject({ phase: 'STAGED' });
      expect((await site.bootScriptAsNode(n)).token).toBe(served.get(n.xname));
      expect(newResets(n, before)).toEqual([]);
    }
    const again = await site.op<{ applyStaged: { succeeded: string[]; ignored: string[] } }>('mutation($x: [XName!]!, $s: String) { applyStaged(xnames: $x, site: $s) { succeeded failed ignored } }', { x: first.map((n) => n.xname), s: site.fx.site });
    expect(again.applyStaged).toMatchObject({ succeeded: [], ignored: first.map((n) => n.xname) });

    await site.op('mutation($x: [XName!]!, $s: String) { applyStaged(xnames: $x, site: $s) { succeeded } }', { x: rest.map((n) => n.xname), s: site.fx.site });
    const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 60_000);
    expect(done).toMatchObject({ status: 'COMPLETE', counts: { ...ZERO, total: 6, succeeded: 6 } });
    for (const n of rest) expect(newResets(n, before)).toEqual(['PowerCycle']);
  }, 150_000);

  it('a claim whose answer is lost on the way back: the agent claims the node again and rolls it once, long before its lease would run out', async () => {
    const nodes = slice(34, 38);
    const before = resetCounts(nodes);
    const lost = site.link.loseNextAnswer('claimBootSessionNodes');
    const s = await site.createSession({ template: 'to-a', operation: 'REBOOT', limit: limitOf(nodes), maxConcurrent: 2, bootTimeoutSeconds: 20 });
    await lost;
    // The lease is 120 s: a node left to it would still be INPROGRESS when this wait gives up.
    const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 60_000);
    expect(done).toMatchObject({ status: 'COMPLETE', counts: { ...ZERO, total: 4, succeeded: 4 } });
    for (const r of await site.sessionNodes(s.id)) expect(r).toMatchObject({ phase: 'SUCCEEDED', attempts: 1, error: null, targetImageId: site.imageA });
    for (const n of nodes) {
      expect(newResets(n, before)).toEqual(['PowerCycle']);
      expect(sha((await site.bootScriptAsNode(n)).kernelUrl)).toBe(site.kernelA.sha256);
    }
    // The agent got each claim once: the lost answer's nodes through the repeated claim.
    expect((await site.agent.status()).rollout?.sessions[s.id]).toEqual({ claimed: 4, drainedAhead: 0, resumedAhead: 0, powerCycled: 4, validated: 4, failed: 0, rolledBack: 0 });
  }, 90_000);
});
