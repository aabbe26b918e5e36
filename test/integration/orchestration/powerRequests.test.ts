import { startTestGateway, type TestGateway } from '../../support/gateway.js';

type Req = { id: string; site: string; status: string; xnames: string[]; results: { xname: string; ok: boolean; powerState: string | null; error: string | null }[] };
/** The agent an access token names (its OAuth client id), as the gateway reads it. */
const subjectOf = (token: string): string => String((JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as { client_id?: string }).client_id);
const FIELDS = 'id site action status xnames requestedBy claimedAt completedAt results { xname ok powerState bootOverride error }';

describe('power requests routed to site agents', () => {
  let gw: TestGateway;
  let agentA: string;
  let agentB: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    for (const n of ['a', 'b']) await gw.gql(`mutation($n: String!) { createSite(input: { name: $n }) { site { name } } }`, { n });
    const up = await gw.gql<{ upsertComponents: { errors: unknown[] } }>(
      'mutation($i: [ComponentInput!]!) { upsertComponents(input: $i) { errors { xname code message } } }',
      { i: [{ xname: 'x1000c0s0b0n0', site: 'a' }, { xname: 'x1000c0s0b0n1', site: 'a' }, { xname: 'x2000c0s0b0n0', site: 'b' }] },
    );
    expect(up.errors).toBeUndefined();
    expect(up.data?.upsertComponents.errors).toEqual([]);
    agentA = await gw.agentToken('a');
    agentB = await gw.agentToken('b');
  });
  afterAll(() => gw.close());

  it("addresses one site's nodes per request, lets each agent claim only its own, and records per-node results", async () => {
    const ask = (site: string, xnames: string[]) =>
      gw.gql<{ requestPower: Req[] }>(`mutation($x: [XName!]!, $s: String) { requestPower(xnames: $x, action: CYCLE, site: $s) { ${FIELDS} } }`, { x: xnames, s: site }, gw.tokens.operator);
    const madeA = await ask('a', ['x1000c0s0b0n0', 'x1000c0s0b0n1']);
    const madeB = await ask('b', ['x2000c0s0b0n0']);
    expect(madeA.errors).toBeUndefined();
    expect(madeB.errors).toBeUndefined();
    // Site b holds no x1000c0s0b0n0: a request names one site's nodes.
    expect((await ask('b', ['x1000c0s0b0n0'])).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const bySite = Object.fromEntries([...madeA.data!.requestPower, ...madeB.data!.requestPower].map((r) => [r.site, r]));
    expect(bySite.a).toMatchObject({ status: 'PENDING', xnames: ['x1000c0s0b0n0', 'x1000c0s0b0n1'] });
    expect(bySite.b).toMatchObject({ status: 'PENDING', xnames: ['x2000c0s0b0n0'] });

    const claimA = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { ${FIELDS} } }`, undefined, agentA);
    expect(claimA.data?.claimPowerRequests.map((r) => r.id)).toEqual([bySite.a!.id]);
    expect(claimA.data?.claimPowerRequests[0]?.status).toBe('RUNNING');
    const again = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id } }`, undefined, agentA);
    expect(again.data?.claimPowerRequests).toEqual([]);

    // Agent A can neither see nor complete site B's request.
    const peek = await gw.gql<{ powerRequest: Req | null }>(`query($id: ID!) { powerRequest(id: $id) { id } }`, { id: bySite.b!.id }, agentA);
    expect(peek.data?.powerRequest).toBeNull();

    const results = [
      { xname: 'x1000c0s0b0n0', ok: true, powerState: 'On' },
      { xname: 'x1000c0s0b0n1', ok: false, error: 'BMC x1000c0s0b0 answered 503 three times' },
    ];
    const done = await gw.gql<{ completePowerRequest: Req }>(
      `mutation($id: ID!, $r: [PowerResultInput!]!) { completePowerRequest(id: $id, results: $r) { ${FIELDS} } }`,
      { id: bySite.a!.id, r: results },
      agentA,
    );
    expect(done.errors).toBeUndefined();
    expect(done.data?.completePowerRequest).toMatchObject({ status: 'DONE', results: [{ xname: 'x1000c0s0b0n0', ok: true, powerState: 'On' }, { xname: 'x1000c0s0b0n1', ok: false, error: 'BMC x1000c0s0b0 answered 503 three times' }] });

    // A retried delivery of the same completion is answered, not applied twice; different results conflict.
    const retry = await gw.gql<{ completePowerRequest: Req }>(`mutation($id: ID!, $r: [PowerResultInput!]!) { completePowerRequest(id: $id, results: $r) { status } }`, { id: bySite.a!.id, r: results }, agentA);
    expect(retry.data?.completePowerRequest.status).toBe('DONE');
    const other = await gw.gql(`mutation($id: ID!, $r: [PowerResultInput!]!) { completePowerRequest(id: $id, results: $r) { status } }`, { id: bySite.a!.id, r: [{ xname: 'x1000c0s0b0n0', ok: false }] }, agentA);
    expect(other.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const read = await gw.gql<{ powerRequest: Req }>(`query($id: ID!) { powerRequest(id: $id) { ${FIELDS} } }`, { id: bySite.a!.id }, gw.tokens.viewer);
    expect(read.data?.powerRequest.status).toBe('DONE');

    // Site B's request is still pending for its own agent, and completing before claiming is refused.
    const early = await gw.gql(`mutation($id: ID!) { completePowerRequest(id: $id, results: []) { status } }`, { id: bySite.b!.id }, agentB);
    expect(early.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const claimB = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id } }`, undefined, agentB);
    expect(claimB.data?.claimPowerRequests.map((r) => r.id)).toEqual([bySite.b!.id]);
  });

  it('refuses unknown nodes with NOT_FOUND naming them, and queues nothing', async () => {
    const res = await gw.gql(`mutation { requestPower(xnames: ["x1000c0s0b0n0", "x9c0s0b0n0"], action: ON, site: "a") { id } }`);
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.message).toContain('x9c0s0b0n0');
    const claim = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id } }`, undefined, agentA);
    expect(claim.data?.claimPowerRequests).toEqual([]);
  });

  it('lets neither viewers request power nor humans claim requests', async () => {
    const viewer = await gw.gql(`mutation { requestPower(xnames: ["x1000c0s0b0n0"], action: ON, site: "a") { id } }`, undefined, gw.tokens.viewer);
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const human = await gw.gql(`mutation { claimPowerRequests { id } }`, undefined, gw.tokens.admin);
    expect(human.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('shows the iSCSI sessions an agent reports on the node, and forgets those it no longer reports', async () => {
    const sha = 'a'.repeat(64);
    const report = (sessions: unknown[]) =>
      gw.gql<{ reportIscsiSessions: number }>('mutation($s: [IscsiSessionInput!]!) { reportIscsiSessions(agent: "agent-1", sessions: $s) }', { s: sessions }, agentA);
    const s1 = { targetIqn: 'iqn.2026-11.io.skyboot:agent-1', lun: 1, initiatorIqn: 'iqn.2026-11.io.skyboot:node:x1000c0s0b0n0', xname: 'x1000c0s0b0n0', rootfsSha256: sha };
    const s2 = { ...s1, initiatorIqn: 'iqn.2026-11.io.skyboot:node:x1000c0s0b0n1', xname: 'x1000c0s0b0n1' };
    expect((await report([s1, s2])).data?.reportIscsiSessions).toBe(2);
    const q = '{ component(xname: "x1000c0s0b0n1", site: "a") { iscsiSessions { agent lun initiatorIqn rootfsSha256 } } }';
    const seen = await gw.gql<{ component: { iscsiSessions: unknown[] } }>(q, undefined, gw.tokens.viewer);
    expect(seen.data?.component.iscsiSessions).toEqual([{ agent: 'agent-1', lun: 1, initiatorIqn: s2.initiatorIqn, rootfsSha256: sha }]);
    expect((await report([s1])).data?.reportIscsiSessions).toBe(1);
    const after = await gw.gql<{ component: { iscsiSessions: unknown[] } }>(q, undefined, gw.tokens.viewer);
    expect(after.data?.component.iscsiSessions).toEqual([]);
    const bad = await report([{ ...s1, rootfsSha256: 'nope' }]);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'sessions[0].rootfsSha256' });
  });

  it('lets any agent of the site take over an expired claim, and lets only the claimant complete', async () => {
    const otherAgentOfB = await gw.agentToken('b');
    const complete = (id: string, token: string, powerState: string) =>
      gw.gql<{ completePowerRequest: Req }>(`mutation($id: ID!, $r: [PowerResultInput!]!) { completePowerRequest(id: $id, results: $r) { status results { xname powerState } } }`, { id, r: [{ xname: 'x2000c0s0b0n0', ok: true, powerState }] }, token);
    const made = await gw.gql<{ requestPower: Req[] }>(`mutation { requestPower(xnames: ["x2000c0s0b0n0"], action: STATUS, site: "b") { id } }`);
    const id = made.data!.requestPower[0]!.id;
    const first = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id status } }`, undefined, agentB);
    expect(first.data?.claimPowerRequests.map((r) => r.id)).toContain(id);
    // The lease (default 120 s) is running: the other agent of the site gets nothing, and may not complete it.
    const early = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id } }`, undefined, otherAgentOfB);
    expect(early.data?.claimPowerRequests.map((r) => r.id)).not.toContain(id);
    const intruder = await complete(id, otherAgentOfB, 'On');
    expect(intruder.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(intruder.errors?.[0]?.message).toContain(`"${subjectOf(agentB)}"`);
    // An agent of another site sees nothing of it.
    expect((await complete(id, agentA, 'On')).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    process.env.SKYBOOT_CLAIM_LEASE_SECONDS = '0';
    try {
      // The first agent died with the claim: once the lease ran out, the other agent of the site takes it over.
      const takeover = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id status } }`, undefined, otherAgentOfB);
      expect(takeover.data?.claimPowerRequests).toContainEqual({ id, status: 'RUNNING' });
    } finally {
      delete process.env.SKYBOOT_CLAIM_LEASE_SECONDS;
    }
    // The former claimant's late completion is refused, naming the new claimant; the new one's lands.
    const late = await complete(id, agentB, 'Off');
    expect(late.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(late.errors?.[0]?.message).toContain(`"${subjectOf(otherAgentOfB)}"`);
    const done = await complete(id, otherAgentOfB, 'On');
    expect(done.errors).toBeUndefined();
    expect(done.data?.completePowerRequest).toEqual({ status: 'DONE', results: [{ xname: 'x2000c0s0b0n0', powerState: 'On' }] });
    // The claimant's retry is answered; the former claimant still cannot overwrite or re-confirm it.
    expect((await complete(id, otherAgentOfB, 'On')).data?.completePowerRequest.status).toBe('DONE');
    const stale = await complete(id, agentB, 'On');
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(stale.errors?.[0]?.message).toContain(`"${subjectOf(otherAgentOfB)}"`);
    const read = await gw.gql<{ powerRequest: Req }>(`query($id: ID!) { powerRequest(id: $id) { results { xname powerState } } }`, { id }, gw.tokens.viewer);
    expect(read.data?.powerRequest.results).toEqual([{ xname: 'x2000c0s0b0n0', powerState: 'On' }]);
    const after = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id } }`, undefined, agentB);
    expect(after.data?.claimPowerRequests.map((r) => r.id)).not.toContain(id);
  });

  it('gives an agent its own claim back once the lease ran out (a lost claim answer)', async () => {
    process.env.SKYBOOT_CLAIM_LEASE_SECONDS = '0';
    try {
      const made = await gw.gql<{ requestPower: Req[] }>(`mutation { requestPower(xnames: ["x1000c0s0b0n1"], action: STATUS, site: "a") { id } }`);
      const id = made.data!.requestPower[0]!.id;
      const first = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id status } }`, undefined, agentA);
      expect(first.data?.claimPowerRequests.map((r) => r.id)).toContain(id);
      const again = await gw.gql<{ claimPowerRequests: Req[] }>(`mutation { claimPowerRequests { id status } }`, undefined, agentA);
      expect(again.data?.claimPowerRequests).toContainEqual({ id, status: 'RUNNING' });
      const done = await gw.gql<{ completePowerRequest: Req }>(`mutation($id: ID!) { completePowerRequest(id: $id, results: [{ xname: "x1000c0s0b0n1", ok: true, powerState: "Off" }]) { status } }`, { id }, agentA);
      expect(done.data?.completePowerRequest.status).toBe('DONE');
    } finally {
      delete process.env.SKYBOOT_CLAIM_LEASE_SECONDS;
    }
  });

  it('applies iscsi.sessions observations from the outbox once, and shows them on the node', async () => {
    const sha = 'b'.repeat(64);
    const batch = [
      {
        idempotencyKey: 'iscsi-agent-2-1',
        kind: 'iscsi.sessions',
        payload: { agent: 'agent-2', sessions: [{ targetIqn: 'iqn.2026-11.io.skyboot:agent-2:img-bbbb', lun: 1, initiatorIqn: 'iqn.2026-11.io.skyboot:node:x1000c0s0b0n0', xname: 'x1000c0s0b0n0', rootfsSha256: sha }] },
      },
    ];
    const send = () => gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>('mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { outcome error } }', { b: batch }, agentA);
    expect((await send()).data?.reportObservations).toEqual([{ outcome: 'STORED', error: null }]);
    expect((await send()).data?.reportObservations).toEqual([{ outcome: 'DUPLICATE', error: null }]);
    const seen = await gw.gql<{ component: { iscsiSessions: { agent: string; rootfsSha256: string }[] } }>('{ component(xname: "x1000c0s0b0n0", site: "a") { iscsiSessions { agent rootfsSha256 } } }', undefined, gw.tokens.viewer);
    expect(seen.data?.component.iscsiSessions).toContainEqual({ agent: 'agent-2', rootfsSha256: sha });
    const bad = await gw.gql<{ reportObservations: { outcome: string; error: string | null }[] }>('mutation($b: [ObservationInput!]!) { reportObservations(batch: $b) { outcome error } }', { b: [{ idempotencyKey: 'iscsi-bad', kind: 'iscsi.sessions', payload: { sessions: 'nope' } }] }, agentA);
    expect(bad.data?.reportObservations[0]).toMatchObject({ outcome: 'REJECTED' });
  });

  it("lists a site's requests newest first, by status and page by page; an agent sees only its own site's", async () => {
    const made: string[] = [];
    for (const action of ['ON', 'OFF', 'STATUS']) {
      const r = await gw.gql<{ requestPower: Req[] }>(`mutation($a: PowerAction!) { requestPower(xnames: ["x1000c0s0b0n0"], action: $a, site: "a") { id } }`, { a: action }, gw.tokens.operator);
      made.push(r.data!.requestPower[0]!.id);
      // Request keys sort by creation time in milliseconds; a pause keeps the three apart.
      await new Promise((res) => setTimeout(res, 5));
    }
    type Conn = { powerRequests: { edges: { node: Req }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };
    const list = (args: Record<string, unknown>, token?: string) =>
      gw.gql<Conn>(`query($s: String, $st: CommandStatus, $f: Int, $a: String) { powerRequests(site: $s, status: $st, first: $f, after: $a) { edges { node { id site status } } pageInfo { hasNextPage endCursor } } }`, args, token ?? gw.tokens.viewer);
    const pending = await list({ s: 'a', st: 'PENDING' });
    expect(pending.errors).toBeUndefined();
    expect(pending.data!.powerRequests.edges.map((e) => e.node.id)).toEqual([...made].reverse());

    // Every request of site a, two per page: no gaps or repeats, newest first, all of site a.
    const all: Req[] = [];
    let after: string | null = null;
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(20);
      const page: Conn = (await list({ s: 'a', f: 2, a: after })).data!;
      all.push(...page.powerRequests.edges.map((e) => e.node));
      if (!page.powerRequests.pageInfo.hasNextPage) break;
      after = page.powerRequests.pageInfo.endCursor;
    }
    expect(all.slice(0, 3).map((r) => r.id)).toEqual([...made].reverse());
    expect(new Set(all.map((r) => r.id)).size).toBe(all.length);
    expect(all.every((r) => r.site === 'a')).toBe(true);
    expect(all.filter((r) => r.status === 'DONE').length).toBeGreaterThanOrEqual(2);
    const done = await list({ s: 'a', st: 'DONE' });
    expect(done.data!.powerRequests.edges.map((e) => e.node.id).sort()).toEqual(all.filter((r) => r.status === 'DONE').map((r) => r.id).sort());

    // Agent A lists its own site without naming it; agent B may not name site a.
    const own = await list({ st: 'PENDING' }, agentA);
    expect(own.data!.powerRequests.edges.map((e) => e.node.id)).toEqual([...made].reverse());
    const foreign = await list({ s: 'a' }, agentB);
    expect(foreign.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'site' });
    const bad = await list({ s: 'a', f: 5000 });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });
});
