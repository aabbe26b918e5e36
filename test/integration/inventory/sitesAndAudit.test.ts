import { freshAws, type TestAws } from '../../support/aws.js';
import { PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { migrateLegacyAudit } from '../../../functions/shared/auditMigration.js';
import { auditPut, auditPuts } from '../../../functions/shared/audit.js';
import { admin, agentOf, createSites, fails, ok, operator, viewer, stopSitesAuth } from './call.js';

describe('inventory site scoping for agents, and the audit log', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('inv-sites');
    await createSites('a', 'b');
    const res = await ok(operator, 'upsertComponents', {
      input: [
        { xname: 'x1c0s0b0n0', site: 'a', interfaces: [{ mac: '02:0a:00:00:00:01' }] },
        { xname: 'x1c0s1b0n0', site: 'a' },
        { xname: 'x2c0s0b0n0', site: 'b', interfaces: [{ mac: '02:0b:00:00:00:01' }] },
        { xname: 'x9c0s0b0n0' },
      ],
    });
    expect(res.errors).toEqual([]);
  });
  afterAll(async () => {
    await aws.dispose();
    await stopSitesAuth();
  });

  it('an input without a site gets the deployment default site', async () => {
    expect((await ok(viewer, 'component', { xname: 'x9c0s0b0n0' })).site).toBe('local');
  });

  it('an agent of site A reads site A and cannot read site B components', async () => {
    const agentA = agentOf('a');
    expect(await ok(agentA, 'component', { xname: 'x1c0s0b0n0' })).toMatchObject({ site: 'a' });
    expect(await ok(agentA, 'component', { xname: 'x2c0s0b0n0' })).toBeNull();
    expect(await fails(agentA, 'component', { xname: 'x2c0s0b0n0', site: 'b' })).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('site b') });
    expect(await ok(agentA, 'componentByMac', { mac: '02:0b:00:00:00:01' })).toBeNull();
    expect((await ok(agentA, 'componentByMac', { mac: '02:0a:00:00:00:01' })).xname).toBe('x1c0s0b0n0');
    const page = await ok(agentA, 'components', { first: 100 });
    expect(page.edges.map((e: { node: { xname: string } }) => e.node.xname).sort()).toEqual(['x1c0s0b0n0', 'x1c0s1b0n0']);
    expect(await fails(agentA, 'components', { filter: { site: 'b' } })).toMatchObject({ code: 'FORBIDDEN' });
    // A human sees every site.
    const all = await ok(viewer, 'components', { first: 100 });
    expect(all.edges).toHaveLength(4);
  });

  it('an agent identity that names no site is refused everything', async () => {
    const lost = { subject: 'agent-x', roles: ['agent' as const], site: null };
    expect(await fails(lost, 'reportDiscovery', { input: { idempotencyKey: 'k1' } })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(lost, 'component', { xname: 'x9c0s0b0n0' })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(lost, 'components', { first: 100 })).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(lost, 'components', { filter: { site: 'local' } })).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('every mutation writes an audit record, newest first, readable by admin and not by operator or viewer', async () => {
    await ok(operator, 'updateComponent', { xname: 'x1c0s1b0n0', site: 'a', patch: { subRole: 'audited' } });
    await ok(operator, 'setComponentState', { xnames: ['x1c0s1b0n0'], site: 'a', state: 'ON' });
    await ok(operator, 'createGroup', { input: { label: 'audit-g' } });
    await ok(operator, 'addGroupMembers', { label: 'audit-g', xnames: ['x1c0s1b0n0'], site: 'a' });
    await ok(operator, 'upsertRedfishEndpoints', { input: [{ xname: 'x1c0s1b0', address: '10.0.0.9' }] });
    expect(await fails(operator, 'auditLog', {})).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(viewer, 'auditLog', {})).toMatchObject({ code: 'FORBIDDEN' });
    expect(await fails(agentOf('a'), 'auditLog', {})).toMatchObject({ code: 'FORBIDDEN' });

    const records: { operation: string; target: string; actor: string; at: string; before: string | null; after: string | null }[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { edges: { node: (typeof records)[number] }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = await ok(admin, 'auditLog', { first: 2, after });
      records.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const ops = records.map((r) => r.operation);
    expect(ops.slice(0, 5)).toEqual(['upsertRedfishEndpoints', 'addGroupMembers', 'createGroup', 'setComponentState', 'updateComponent']);
    expect(ops.filter((o) => o !== 'createSite').pop()).toBe('upsertComponents');
    expect(new Set(records.map((r) => r.at + r.operation + r.target)).size).toBe(records.length);
    const sorted = [...records].sort((x, y) => (x.at < y.at ? 1 : -1));
    expect(records.map((r) => r.at)).toEqual(sorted.map((r) => r.at));
    const state = records.find((r) => r.operation === 'setComponentState')!;
    expect(state).toMatchObject({ target: 'x1c0s1b0n0', actor: 'olga-operator' });
    expect(JSON.parse(state.before!).state).toBe('UNKNOWN');
    expect(JSON.parse(state.after!).state).toBe('ON');
    // The bulk load is audited per component, with its full state after (MACs, IPs, site...).
    const bulk = records.filter((r) => r.operation === 'upsertComponents');
    expect(bulk.map((r) => r.target).sort()).toEqual(['x1c0s0b0n0', 'x1c0s1b0n0', 'x2c0s0b0n0', 'x9c0s0b0n0']);
    const created = bulk.find((r) => r.target === 'x1c0s0b0n0')!;
    expect(created.before).toBeNull();
    expect(JSON.parse(created.after!)).toMatchObject({ xname: 'x1c0s0b0n0', site: 'a', version: 1, interfaces: [{ mac: '02:0a:00:00:00:01', ipAddresses: [], network: 'default' }] });
  });

  it('the log reads per target (its whole history) and per site, newest first, and pages without gaps', async () => {
    const target = await ok(admin, 'auditLog', { target: 'x1c0s1b0n0', first: 100 });
    expect(target.edges.map((e: { node: { operation: string } }) => e.node.operation)).toEqual(['addGroupMembers', 'setComponentState', 'updateComponent', 'upsertComponents']);
    const siteA = await ok(admin, 'auditLog', { site: 'a', first: 100 });
    const siteATargets = siteA.edges.map((e: { node: { target: string; site: string } }) => e.node.target);
    expect(new Set(siteA.edges.map((e: { node: { site: string } }) => e.node.site))).toEqual(new Set(['a']));
    expect(siteATargets).toEqual(expect.arrayContaining(['x1c0s0b0n0', 'x1c0s1b0n0']));
    expect(siteATargets).not.toContain('x2c0s0b0n0');
    const siteB = await ok(admin, 'auditLog', { site: 'b', first: 100 });
    // Newest first: the component, then the site's own creation (createSite is audited too).
    expect(siteB.edges.map((e: { node: { target: string } }) => e.node.target)).toEqual(['x2c0s0b0n0', 'site:b']);
    // Page by one across the deployment's shards: the same records as one page, in order.
    const all = (await ok(admin, 'auditLog', { first: 1000 })).edges.map((e: { node: { id: string } }) => e.node.id);
    const paged: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = await ok(admin, 'auditLog', { first: 3, after });
      paged.push(...page.edges.map((e) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(paged).toEqual(all);
    expect(all.length).toBeGreaterThanOrEqual(8);
    // A window in the future holds nothing; a window longer than 92 days is refused.
    const later = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
    expect((await ok(admin, 'auditLog', { from: later, to: later })).edges).toEqual([]);
    expect(await fails(admin, 'auditLog', { from: '2020-01-01T00:00:00Z' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'from' });
  });

  it('a refused mutation writes no audit record', async () => {
    const before = (await ok(admin, 'auditLog', { first: 1 })).edges[0].node.id;
    await fails(operator, 'setComponentState', { xnames: ['x1c0s1b0n0'], site: 'a', state: 'EMPTY' });
    await fails(viewer, 'updateComponent', { xname: 'x1c0s1b0n0', patch: { enabled: false } });
    expect((await ok(admin, 'auditLog', { first: 1 })).edges[0].node.id).toBe(before);
  });

  it('a record over one item (900 KB before/after) is split into parts within the 400 KB item limit, and reads back whole', async () => {
    const ctx = { identity: { subject: 'olga-operator', roles: ['operator' as const], site: null }, requestId: 'big', clients: aws.clients, access: 'write' as const };
    const before = { blob: 'b'.repeat(450_000), note: 'é' };
    const after = { blob: 'a'.repeat(450_000) };
    const puts = auditPuts(ctx, { operation: 'bulkThing', target: 'bulk:1', site: 'a', before, after });
    expect(puts.length).toBe(4);
    for (const p of puts) expect(Buffer.byteLength(JSON.stringify(p.Put.Item))).toBeLessThan(400 * 1024);
    expect(() => auditPut(ctx, { operation: 'bulkThing', target: 'bulk:1', before, after })).toThrow(/needs 4 items: add auditPuts/);
    await aws.clients.doc.send(new TransactWriteCommand({ TransactItems: puts }));
    const parts = (await ok(admin, 'auditLog', { target: 'bulk:1' })).edges.map((e: { node: { id: string; part: number; parts: number; before: string | null; after: string | null } }) => e.node);
    expect(parts.map((p: { part: number; parts: number }) => [p.part, p.parts])).toEqual([[3, 4], [2, 4], [1, 4], [0, 4]]);
    expect(new Set(parts.map((p: { id: string }) => p.id)).size).toBe(1);
    const inOrder = [...parts].reverse();
    expect(JSON.parse(inOrder.map((p: { before: string | null }) => p.before ?? '').join(''))).toEqual(before);
    expect(JSON.parse(inOrder.map((p: { after: string | null }) => p.after ?? '').join(''))).toEqual(after);
  });

  it('records an earlier version wrote (one partition per month) are moved to the sharded keys, idempotently', async () => {
    // Two items exactly as the earlier audit.ts wrote them.
    const at = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
    const legacy = [
      { id: '00000000-0000-4000-8000-000000000001', target: 'x1c0s0b0n0', site: null, operation: 'updateComponent' },
      { id: '00000000-0000-4000-8000-000000000002', target: 'x7c0s0b0n0', site: 'a', operation: 'reportDiscovery' },
    ];
    for (const l of legacy) {
      await aws.clients.doc.send(
        new PutCommand({
          TableName: aws.tableName,
          Item: { PK: `AUDIT#${at.slice(0, 7)}`, SK: `${at}#${l.id}`, entity: 'Audit', id: l.id, at, actor: 'old-actor', roles: ['operator'], site: l.site, requestId: 'r-old', operation: l.operation, target: l.target, before: '{"state":"OFF"}', after: '{"state":"ON"}' },
        }),
      );
    }
    expect(await migrateLegacyAudit(aws.clients, [at.slice(0, 7)])).toEqual({ moved: 2, alreadyMoved: 0 });
    expect(await migrateLegacyAudit(aws.clients, [at.slice(0, 7)])).toEqual({ moved: 0, alreadyMoved: 0 });
    const left = await aws.clients.doc.send(new QueryCommand({ TableName: aws.tableName, KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': `AUDIT#${at.slice(0, 7)}` } }));
    expect(left.Items).toEqual([]);
    const byTarget = (await ok(admin, 'auditLog', { target: 'x7c0s0b0n0' })).edges.map((e: { node: unknown }) => e.node);
    expect(byTarget).toEqual([expect.objectContaining({ id: legacy[1]!.id, at, actor: 'old-actor', operation: 'reportDiscovery', site: 'a', before: '{"state":"OFF"}', after: '{"state":"ON"}' })]);
    const siteA = (await ok(admin, 'auditLog', { site: 'a', first: 1000 })).edges.map((e: { node: { id: string } }) => e.node.id);
    expect(siteA).toContain(legacy[1]!.id);
    const all = (await ok(admin, 'auditLog', { first: 1000 })).edges.map((e: { node: { id: string } }) => e.node.id);
    expect(all).toEqual(expect.arrayContaining(legacy.map((l) => l.id)));
  });
});
