/**
 * Boot templates and sessions on the local stack (DynamoDB Local, s3rver, the local OAuth provider):
 * validation errors naming the input, the window and canary gate under two agents of one site racing
 * their claims, claim expiry and takeover, stage + applyStaged, the newer session taking a node over,
 * rollback reports and the maxFailures pause.
 */
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { blob, siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import { expireBootSessionClaims } from '../../../functions/orchestration/claimExpiry.js';

type Claim = { sessionId: string; xname: string; canary: boolean; bootToken: string; previousBootToken: string | null; target: { imageId: string } | null; previous: { imageId: string } | null; leaseExpiresAt: string };
type Session = { id: string; status: string; statusReason: string | null; counts: Record<string, number>; nodes: { edges: { node: { xname: string; phase: string; supersededBy: string | null; error: { step: string } | null; previousImageId: string | null; targetImageId: string | null } }[] } };
const SESSION = 'id status statusReason counts { total pending waiting inProgress succeeded failed rolledBack staged superseded } nodes(first: 100) { edges { node { xname phase supersededBy error { step } previousImageId targetImageId } } }';
const CLAIM = 'sessionId xname canary bootToken previousBootToken target { imageId } previous { imageId } leaseExpiresAt';
const XNAMES = Array.from({ length: 8 }, (_, i) => `x3000c0s${i}b0n0`);

describe('boot sessions: templates, claims under the window, staging', () => {
  let gw: TestGateway;
  let fx: SiteFixture;
  let imageB: string;
  let agent1: string;
  let agent2: string;
  const ok = <T>(r: { data?: T | null; errors?: unknown[] }): T => {
    if (r.errors?.length || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  const putTemplate = (name: string, imageId: string, extra: Record<string, unknown> = {}, expectedVersion?: number) =>
    gw.gql<{ putBootTemplate: { name: string; version: number } }>(
      'mutation($i: BootTemplateInput!, $v: Int) { putBootTemplate(input: $i, expectedVersion: $v) { name version bootSets { name imageId xnames } } }',
      { i: { name, site: fx.site, bootSets: [{ name: 'compute', imageId, groups: ['rack3'], kernelParameters: 'console=ttyS0', ...extra }] }, v: expectedVersion },
      gw.tokens.operator,
    );
  const create = (input: Record<string, unknown>) => gw.gql<{ createBootSession: Session }>(`mutation($i: BootSessionInput!) { createBootSession(input: $i) { ${SESSION} } }`, { i: { site: fx.site, ...input } }, gw.tokens.operator);
  const read = async (id: string) => ok(await gw.gql<{ bootSession: Session }>(`query($id: ID!) { bootSession(id: $id) { ${SESSION} } }`, { id })).bootSession;
  const claim = (token: string, sessionId: string, idle: string[], busy: string[] = []) =>
    gw.gql<{ claimBootSessionNodes: Claim[] }>(`mutation($i: ClaimBootSessionNodesInput!) { claimBootSessionNodes(input: $i) { ${CLAIM} } }`, { i: { sessionId, idle, busy } }, token);
  const report = (token: string, c: Claim, outcome: string, extra: Record<string, unknown> = {}) =>
    gw.gql<{ reportBootSessionNode: { phase: string } }>('mutation($i: BootSessionNodeReport!) { reportBootSessionNode(input: $i) { phase } }', { i: { sessionId: c.sessionId, xname: c.xname, outcome, ...extra } }, token);

  beforeAll(async () => {
    gw = await startTestGateway();
    fx = await siteFixture(gw, 'orch');
    ok(await gw.gql('mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { failed } }', { in: XNAMES.map((x, i) => ({ xname: x, site: fx.site, role: 'COMPUTE', nid: 100 + i, arch: 'X86' })) }));
    ok(await gw.gql('mutation { createGroup(input: { label: "rack3" }) { label } }'));
    ok(await gw.gql('mutation($x: [XName!]!) { addGroupMembers(label: "rack3", xnames: $x, site: "orch") { name } }', { x: XNAMES }));
    imageB = await fx.pushImage('compute-b', blob(1000), blob(2000));
    agent1 = fx.agentToken;
    agent2 = await gw.agentToken(fx.site);
  });
  afterAll(() => gw.close());

  it('refuses bad templates and sessions with BAD_USER_INPUT naming the input, and templates put conditionally', async () => {
    const badImage = await putTemplate('t-bad', 'img-nope');
    expect(badImage.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bootSets[0].imageId' });
    expect(badImage.errors?.[0]?.message).toContain('img-nope');
    const badGroup = await putTemplate('t-bad', imageB, { groups: ['no-such-rack'] });
    expect(badGroup.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bootSets[0].groups' });
    expect(badGroup.errors?.[0]?.message).toContain('no-such-rack');
    const badNode = await putTemplate('t-bad', imageB, { groups: [], xnames: ['x9999c0s0b0n0'] });
    expect(badNode.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bootSets[0].xnames' });
    expect(badNode.errors?.[0]?.message).toContain('x9999c0s0b0n0');

    expect(ok(await putTemplate('rack3-b', imageB, {}, 0)).putBootTemplate.version).toBe(1);
    expect(ok(await putTemplate('rack3-b', imageB, {}, 1)).putBootTemplate.version).toBe(2);
    const stale = await putTemplate('rack3-b', imageB, {}, 1);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'expectedVersion' });

    const cases: [Record<string, unknown>, string, string][] = [
      [{ template: 'nope', operation: 'REBOOT' }, 'input.template', 'nope'],
      [{ template: 'rack3-b', operation: 'REBOOT', limit: 'x3000c0s0b0n0,x9999c0s0b0n0' }, 'input.limit', 'x9999c0s0b0n0'],
      [{ template: 'rack3-b', operation: 'REBOOT', limit: 'rack-typo' }, 'input.limit', 'rack-typo'],
      [{ template: 'rack3-b', operation: 'REBOOT', maxConcurrent: 0 }, 'input.maxConcurrent', '0'],
      [{ template: 'rack3-b', operation: 'REBOOT', limit: 'x3000c0s0b0n0,x3000c0s1b0n0', canary: 3 }, 'input.canary', '3 canaries'],
    ];
    for (const [input, field, named] of cases) {
      const r = await create(input);
      expect(r.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(r.errors?.[0]?.message).toContain(named);
    }
    // BOS limit syntax: rack3 & not the first two.
    const limited = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: 'rack3,!x3000c0s0b0n0,!x3000c0s1b0n0,&compute', stage: true })).createBootSession;
    expect(limited.counts.total).toBe(6);
    expect(limited.nodes.edges.map((e) => e.node.xname)).toEqual(XNAMES.slice(2));
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: limited.id }, gw.tokens.operator));
  });

  it('never lets two agents racing exceed maxConcurrent, gates on canaries, and hands expired claims over', async () => {
    const s = ok(await create({ template: 'rack3-b', operation: 'REBOOT', maxConcurrent: 3, canary: 1 })).createBootSession;
    expect(s.status).toBe('RUNNING');
    // Both agents ask for every node at once: the canary goes alone.
    const [a, b] = await Promise.all([claim(agent1, s.id, XNAMES), claim(agent2, s.id, XNAMES)]);
    const first = [...ok(a).claimBootSessionNodes, ...ok(b).claimBootSessionNodes];
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ canary: true, target: { imageId: imageB }, previous: { imageId: fx.imageId } });
    expect(ok(await claim(agent1, s.id, XNAMES)).claimBootSessionNodes).toEqual([]);
    const canaryOwner = ok(a).claimBootSessionNodes.length ? agent1 : agent2;
    const other = canaryOwner === agent1 ? agent2 : agent1;
    // Only the claimant reports, and only with the target's token.
    expect((await report(other, first[0]!, 'SUCCEEDED', { bootToken: first[0]!.bootToken })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect((await report(canaryOwner, first[0]!, 'SUCCEEDED', { bootToken: first[0]!.previousBootToken })).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.bootToken' });
    expect(ok(await report(canaryOwner, first[0]!, 'SUCCEEDED', { bootToken: first[0]!.bootToken })).reportBootSessionNode.phase).toBe('SUCCEEDED');
    // A retried report is answered, not applied twice.
    expect(ok(await report(canaryOwner, first[0]!, 'SUCCEEDED', { bootToken: first[0]!.bootToken })).reportBootSessionNode.phase).toBe('SUCCEEDED');

    // Canary validated: racing agents fill the window exactly, with disjoint nodes.
    const rest = XNAMES.filter((x) => x !== first[0]!.xname);
    const race = await Promise.all([claim(agent1, s.id, rest), claim(agent2, s.id, [...rest].reverse()), claim(agent1, s.id, rest), claim(agent2, s.id, rest)]);
    const got = race.flatMap((r) => ok(r).claimBootSessionNodes);
    expect(got).toHaveLength(3);
    expect(new Set(got.map((c) => c.xname)).size).toBe(3);
    expect((await read(s.id)).counts).toMatchObject({ inProgress: 3, succeeded: 1, pending: 4 });

    // An agent that went away: once its lease ran out, the schedule hands its nodes back and another agent takes them.
    const held = got.filter((c) => race.findIndex((r) => ok(r).claimBootSessionNodes.includes(c)) % 2 === 0);
    const lease = Math.max(...got.map((c) => Date.parse(c.leaseExpiresAt)));
    expect(await expireBootSessionClaims(gw.aws.clients, new Date(lease - 60_000))).toBe(0);
    expect(await expireBootSessionClaims(gw.aws.clients, new Date(lease + 1000))).toBe(3);
    const after = await read(s.id);
    expect(after.counts).toMatchObject({ inProgress: 0, pending: 7 });
    expect(after.nodes.edges.find((e) => e.node.xname === got[0]!.xname)?.node.error?.step).toBe('claim');
    const again = ok(await claim(agent2, s.id, rest)).claimBootSessionNodes;
    expect(again).toHaveLength(3);
    // The former claimant's late report is refused.
    if (held.length) expect((await report(agent1, { ...held[0]!, xname: again.find((c) => c.xname === held[0]!.xname)?.xname ?? held[0]!.xname }, 'FAILED', { step: 'heartbeat' })).errors?.[0]?.extensions?.code).toBe('CONFLICT');
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));
    for (const c of again) ok(await report(agent2, c, 'SUCCEEDED', { bootToken: c.bootToken }));
    expect((await read(s.id)).status).toBe('CANCELLED');
  });

  it('answers a claim repeated by the same agent instance (its first answer lost) with the claim it holds, in no second slot; other agents and instances are refused', async () => {
    const nodes = XNAMES.slice(0, 3);
    const s = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: nodes.join(','), maxConcurrent: 1 })).createBootSession;
    const claimAs = (token: string, idle: string[], claimToken: string | null) =>
      gw.gql<{ claimBootSessionNodes: Claim[] }>(`mutation($i: ClaimBootSessionNodesInput!) { claimBootSessionNodes(input: $i) { ${CLAIM} attempts } }`, { i: { sessionId: s.id, idle, claimToken } }, token);
    type Work = { sessionId: string; freeSlots: number; failuresLeft: number | null; xnames: string[]; claimed: string[] };
    const work = async (token: string, claimToken: string | null) =>
      ok(await gw.gql<{ bootSessionWork: Work[] }>('query($t: String) { bootSessionWork(claimToken: $t) { sessionId freeSlots failuresLeft xnames claimed } }', { t: claimToken }, token)).bootSessionWork.find((w) => w.sessionId === s.id);
    const attempts = async () => ok(await gw.gql<{ bootSession: { nodes: { edges: { node: { xname: string; attempts: number; claimedBy: string | null } }[] } } }>('query($id: ID!) { bootSession(id: $id) { nodes(first: 10) { edges { node { xname attempts claimedBy } } } } }', { id: s.id })).bootSession.nodes.edges.map((e) => e.node);

    const first = ok(await claimAs(agent1, nodes, 'agent1-instance')).claimBootSessionNodes;
    expect(first).toHaveLength(1);
    const mine = first[0]!;
    // The answer never reached the agent: its work list names the node as held under its token, to no one else.
    expect(await work(agent1, 'agent1-instance')).toMatchObject({ freeSlots: 0, failuresLeft: null, claimed: [mine.xname] });
    expect((await work(agent1, 'another-instance'))?.claimed).toEqual([]);
    expect((await work(agent2, 'agent1-instance'))?.claimed).toEqual([]);

    const again = ok(await claimAs(agent1, nodes, 'agent1-instance')).claimBootSessionNodes;
    expect(again).toEqual([{ ...mine, leaseExpiresAt: expect.any(String) }]);
    expect(Date.parse(again[0]!.leaseExpiresAt)).toBeGreaterThanOrEqual(Date.parse(mine.leaseExpiresAt));
    expect((await read(s.id)).counts).toMatchObject({ inProgress: 1, pending: 2 });
    expect((await attempts()).find((n) => n.xname === mine.xname)).toMatchObject({ attempts: 1 });

    // Another agent, the same agent's other instance, or a claim without a token: refused, and no other node (the window is full).
    expect(ok(await claimAs(agent2, nodes, 'agent1-instance')).claimBootSessionNodes).toEqual([]);
    expect(ok(await claimAs(agent1, nodes, 'another-instance')).claimBootSessionNodes).toEqual([]);
    expect(ok(await claimAs(agent1, nodes, null)).claimBootSessionNodes).toEqual([]);
    expect((await read(s.id)).counts).toMatchObject({ inProgress: 1, pending: 2 });

    // Paused, the node (not started by the agent that never heard of it) is not handed out again.
    ok(await gw.gql('mutation($id: ID!) { pauseBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));
    expect(ok(await claimAs(agent1, nodes, 'agent1-instance')).claimBootSessionNodes).toEqual([]);
    ok(await gw.gql('mutation($id: ID!) { resumeBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));

    // The repeated claim is the claim: its report settles the node once, and the next claim takes the next node.
    expect(ok(await report(agent1, again[0]!, 'SUCCEEDED', { bootToken: again[0]!.bootToken })).reportBootSessionNode.phase).toBe('SUCCEEDED');
    const next = ok(await claimAs(agent1, nodes, 'agent1-instance')).claimBootSessionNodes;
    expect(next.map((c) => c.xname)).toEqual([nodes.find((x) => x !== mine.xname)]);
    expect((await read(s.id)).counts).toMatchObject({ succeeded: 1, inProgress: 1, pending: 1 });
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));
  });

  it('restates the maxFailures pause with the failures of nodes in flight at the pause, and claims none while paused', async () => {
    const nodes = XNAMES.slice(0, 4);
    const s = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: nodes.join(','), maxConcurrent: 3, maxFailures: 1 })).createBootSession;
    const work = ok(await gw.gql<{ bootSessionWork: { sessionId: string; failuresLeft: number | null }[] }>('query { bootSessionWork { sessionId failuresLeft } }', {}, agent1)).bootSessionWork;
    expect(work.find((w) => w.sessionId === s.id)?.failuresLeft).toBe(1);
    const got = ok(await claim(agent1, s.id, nodes)).claimBootSessionNodes;
    expect(got).toHaveLength(3);
    ok(await report(agent1, got[0]!, 'FAILED', { step: 'power', error: 'BMC answered 503' }));
    expect(await read(s.id)).toMatchObject({ status: 'PAUSED', statusReason: 'paused at maxFailures: 1 of 4 nodes failed' });
    // The two nodes in flight finish: one fails too, the reason says so; one validates, the count stays.
    ok(await report(agent1, got[1]!, 'FAILED', { step: 'heartbeat', error: 'no heartbeat' }));
    expect(await read(s.id)).toMatchObject({ status: 'PAUSED', statusReason: 'paused at maxFailures: 2 of 4 nodes failed', counts: { failed: 2, inProgress: 1 } });
    ok(await report(agent1, got[2]!, 'SUCCEEDED', { bootToken: got[2]!.bootToken }));
    expect(await read(s.id)).toMatchObject({ status: 'PAUSED', statusReason: 'paused at maxFailures: 2 of 4 nodes failed', counts: { failed: 2, succeeded: 1, inProgress: 0, pending: 1 } });
    expect(ok(await claim(agent1, s.id, nodes)).claimBootSessionNodes).toEqual([]);
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));
  });

  it('resumed after a maxFailures pause, goes on with a fresh budget and pauses again only at new failures; a failed canary cannot be resumed', async () => {
    const nodes = XNAMES.slice(0, 6);
    const s = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: nodes.join(','), maxConcurrent: 1, maxFailures: 1 })).createBootSession;
    const failuresLeft = async () => ok(await gw.gql<{ bootSessionWork: { sessionId: string; failuresLeft: number | null; freeSlots: number }[] }>('query { bootSessionWork { sessionId failuresLeft freeSlots } }', {}, agent1)).bootSessionWork.find((w) => w.sessionId === s.id);
    const resume = () => gw.gql<{ resumeBootSession: Session }>(`mutation($id: ID!) { resumeBootSession(id: $id) { ${SESSION} } }`, { id: s.id }, gw.tokens.operator);
    const [first] = ok(await claim(agent1, s.id, nodes)).claimBootSessionNodes;
    ok(await report(agent1, first!, 'FAILED', { step: 'heartbeat', error: 'no heartbeat' }));
    expect(await read(s.id)).toMatchObject({ status: 'PAUSED', statusReason: 'paused at maxFailures: 1 of 6 nodes failed' });

    // Resumed: RUNNING (not paused again at once), one more failure allowed, a node to claim.
    expect(ok(await resume()).resumeBootSession).toMatchObject({ status: 'RUNNING', statusReason: null });
    expect(await failuresLeft()).toEqual({ sessionId: s.id, failuresLeft: 1, freeSlots: 1 });
    const [second] = ok(await claim(agent1, s.id, nodes)).claimBootSessionNodes;
    expect(second?.xname).not.toBe(first!.xname);
    ok(await report(agent1, second!, 'FAILED', { step: 'heartbeat', error: 'no heartbeat' }));
    expect(await read(s.id)).toMatchObject({ status: 'PAUSED', statusReason: 'paused at maxFailures: 2 of 6 nodes failed (1 since the last resume)', counts: { failed: 2, pending: 4 } });
    expect(ok(await claim(agent1, s.id, nodes)).claimBootSessionNodes).toEqual([]);

    ok(await resume());
    const [third] = ok(await claim(agent1, s.id, nodes)).claimBootSessionNodes;
    ok(await report(agent1, third!, 'SUCCEEDED', { bootToken: third!.bootToken }));
    expect(await read(s.id)).toMatchObject({ status: 'RUNNING', counts: { failed: 2, succeeded: 1, pending: 3 } });
    expect(await failuresLeft()).toMatchObject({ failuresLeft: 1 });
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));

    const c = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: nodes.slice(0, 2).join(','), maxConcurrent: 2, canary: 1 })).createBootSession;
    const [canary] = ok(await claim(agent1, c.id, nodes.slice(0, 2))).claimBootSessionNodes;
    expect(canary?.canary).toBe(true);
    ok(await report(agent1, canary!, 'FAILED', { step: 'heartbeat', error: 'no heartbeat' }));
    expect(await read(c.id)).toMatchObject({ status: 'PAUSED', statusReason: `canary ${canary!.xname} failed validation` });
    const refused = await gw.gql(`mutation($id: ID!) { resumeBootSession(id: $id) { status } }`, { id: c.id }, gw.tokens.operator);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'id' });
    expect(refused.errors?.[0]?.message).toContain(`paused because its canary ${canary!.xname} failed validation`);
    expect((await read(c.id)).status).toBe('PAUSED');
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: c.id }, gw.tokens.operator));
  });

  it('marks busy nodes WAITING outside the window, rolls back, pauses at maxFailures, and shows bootState', async () => {
    const s = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: XNAMES.slice(0, 4).join(','), maxConcurrent: 2, maxFailures: 2, rollback: true, respectWorkload: true })).createBootSession;
    const got = ok(await claim(agent1, s.id, XNAMES.slice(1, 4), [XNAMES[0]!])).claimBootSessionNodes;
    expect(got.map((c) => c.xname)).toEqual(XNAMES.slice(1, 3));
    expect((await read(s.id)).counts).toMatchObject({ waiting: 1, inProgress: 2, pending: 1 });
    ok(await report(agent1, got[0]!, 'ROLLED_BACK', { step: 'heartbeat', error: 'no heartbeat with the target token within 600 s' }));
    const bs = ok(await gw.gql<{ component: { bootState: { desired: { imageId: string }; actual: { imageId: string } } } }>('query($x: XName!) { component(xname: $x, site: "orch") { bootState { desired { imageId } actual { imageId bootedAt } workloadHold } } }', { x: got[0]!.xname }));
    expect(got[0]!.previous).not.toBeNull();
    expect(bs.component.bootState).toMatchObject({ desired: { imageId: got[0]!.previous!.imageId }, actual: { imageId: got[0]!.previous!.imageId } });
    ok(await report(agent1, got[1]!, 'FAILED', { step: 'power', error: 'BMC answered 503' }));
    const paused = await read(s.id);
    expect(paused.status).toBe('PAUSED');
    expect(paused.statusReason).toContain('maxFailures');
    expect(ok(await claim(agent1, s.id, XNAMES.slice(0, 4))).claimBootSessionNodes).toEqual([]);
    const errs = ok(await gw.gql<{ bootSession: { errors: { step: string; count: number }[] } }>('query($id: ID!) { bootSession(id: $id) { errors { step message count xnames } } }', { id: s.id })).bootSession.errors;
    expect(errs.map((e) => e.step).sort()).toEqual(['heartbeat', 'power']);
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id }, gw.tokens.operator));

    const hold = ok(await gw.gql<{ setWorkloadHold: { xname: string }[] }>('mutation { setWorkloadHold(xnames: ["x3000c0s7b0n0"], hold: true, site: "orch") { xname bootState { workloadHold } } }', undefined, gw.tokens.operator));
    expect(hold.setWorkloadHold).toEqual([{ xname: 'x3000c0s7b0n0', bootState: { workloadHold: true } }]);
    // An agent whose snapshot predates the hold offers the node as idle: the cloud's own record wins.
    const held = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: 'x3000c0s7b0n0', respectWorkload: true })).createBootSession;
    expect(ok(await claim(agent1, held.id, ['x3000c0s7b0n0'])).claimBootSessionNodes).toEqual([]);
    expect((await read(held.id)).counts).toMatchObject({ waiting: 1, inProgress: 0 });
    ok(await gw.gql('mutation { setWorkloadHold(xnames: ["x3000c0s7b0n0"], hold: false, site: "orch") { xname } }', undefined, gw.tokens.operator));
    expect(ok(await claim(agent1, held.id, ['x3000c0s7b0n0'])).claimBootSessionNodes.map((c) => c.xname)).toEqual(['x3000c0s7b0n0']);
    ok(await gw.gql('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: held.id }, gw.tokens.operator));
  });

  it('stages without touching desired until applyStaged, which is harmless twice; a newer session takes a node over', async () => {
    const target = XNAMES[5]!;
    const desired = async () => ok(await gw.gql<{ bootConfigurationFor: { imageId: string } }>('query($x: XName!) { bootConfigurationFor(xname: $x, site: "orch") { imageId } }', { x: target })).bootConfigurationFor.imageId;
    ok(await putTemplate('rack3-a', fx.imageId));
    ok(await create({ template: 'rack3-a', operation: 'REBOOT', limit: target }));
    const before = await desired();
    const staged = ok(await create({ template: 'rack3-b', operation: 'REBOOT', limit: `${target},${XNAMES[6]}`, stage: true })).createBootSession;
    expect(staged.counts).toMatchObject({ total: 2, staged: 2 });
    expect(await desired()).toBe(before);
    const st = ok(await gw.gql<{ component: { bootState: { staged: { imageId: string; sessionId: string } } } }>('query($x: XName!) { component(xname: $x, site: "orch") { bootState { staged { imageId sessionId } } } }', { x: target }));
    expect(st.component.bootState.staged).toEqual({ imageId: imageB, sessionId: staged.id });
    const apply = () => gw.gql<{ applyStaged: { succeeded: string[]; failed: string[]; ignored: string[] } }>('mutation($x: [XName!]!) { applyStaged(xnames: $x, site: "orch") { succeeded failed ignored } }', { x: [target, XNAMES[0]] }, gw.tokens.operator);
    expect(ok(await apply()).applyStaged).toEqual({ succeeded: [target], failed: [], ignored: [XNAMES[0]] });
    expect(ok(await apply()).applyStaged).toEqual({ succeeded: [], failed: [], ignored: [target, XNAMES[0]] });
    expect(await desired()).toBe(imageB);
    const after = await read(staged.id);
    expect(after.counts).toMatchObject({ staged: 1, pending: 1 });
    // The rack3-a session's record of the node names the session that took it over.
    const list = ok(await gw.gql<{ bootSessions: { edges: { node: Session }[] } }>(`query { bootSessions(site: "orch", first: 3) { edges { node { id nodes(first: 10) { edges { node { xname phase supersededBy } } } } } } }`)).bootSessions.edges.map((e) => e.node);
    const older = list.find((x) => x.nodes.edges.some((e) => e.node.xname === target && e.node.phase === 'SUPERSEDED'));
    expect(older?.nodes.edges.find((e) => e.node.xname === target)?.node.supersededBy).toBe(staged.id);
  });
});
