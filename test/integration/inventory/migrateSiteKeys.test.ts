/**
 * The site-key migration on a table written by the code before it (test/fixtures/
 * inventory-keys-v1.json, produced by commit a1b9210: see generateInventoryV1.ts.txt): an
 * interrupted run resumes, a finished one changes nothing when run again, and afterwards every
 * record is reachable through the domains' operations by site.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { BatchWriteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { freshAws, type TestAws } from '../../support/aws.js';
import { migrateSiteKeys } from '../../../functions/inventory/migrateSiteKeys.js';
import { handler as boot } from '../../../functions/boot/handler.js';
import { handler as sites } from '../../../functions/sites/handler.js';
import { admin, callMany, ok, operator, viewer } from './call.js';

type Raw = Record<string, AttributeValue>;
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/inventory-keys-v1.json', import.meta.url), 'utf8')) as { commit: string; items: Raw[] };

async function callDomain(h: typeof boot, domain: string, operation: string, args: Record<string, unknown>) {
  const out = await h({ domain, identity: admin, requestId: randomUUID(), calls: [{ operation, args }] });
  const r = out.results[0]!;
  if (!r.ok) throw new Error(`${operation} failed: ${r.error.code} ${r.error.message}`);
  return r.value as Record<string, unknown> | null;
}

describe('migrating a table written before sites were in the inventory keys', () => {
  let aws: TestAws;
  const scan = async () => {
    const out: Raw[] = [];
    let start: Raw | undefined;
    do {
      const page = await aws.clients.ddb.send(new ScanCommand({ TableName: aws.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
      out.push(...((page.Items ?? []) as Raw[]));
      start = page.LastEvaluatedKey as Raw | undefined;
    } while (start);
    return out.map((i) => JSON.stringify(i)).sort();
  };
  const keysOf = (items: string[]) => items.map((i) => { const o = JSON.parse(i) as Raw; return `${o.PK!.S} | ${o.SK!.S}`; });

  beforeAll(async () => {
    aws = await freshAws('inv-migrate');
    for (let i = 0; i < fixture.items.length; i += 25) {
      await aws.clients.ddb.send(new BatchWriteItemCommand({ RequestItems: { [aws.tableName]: fixture.items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
  });
  afterAll(() => aws.dispose());

  it('an interrupted run leaves each item in one form; the next run completes; a third changes nothing', async () => {
    expect(keysOf(await scan())).toEqual(expect.arrayContaining(['COMP#x1000c0s0b0n0 | COMP', 'MAC#52:54:00:12:34:56 | MAC', 'NID#1 | NID', 'IP#default#10.0.0.10 | IP', 'INV#SITES | SITE#legacy']));
    const dry = await migrateSiteKeys(aws.clients, { dryRun: true });
    expect(dry).toMatchObject({ converted: 0, adoptedSites: ['legacy'], remaining: 31, problems: [] });
    expect(await scan()).toHaveLength(fixture.items.length);

    const first = await migrateSiteKeys(aws.clients, { maxItems: 15 });
    expect(first).toMatchObject({ converted: 15, markersRemoved: 0, adoptedSites: ['legacy'], remaining: 16, problems: [] });
    const halfway = keysOf(await scan());
    // Never both forms of one item, never neither: the item count only grows by the adopted site item.
    expect(halfway).toHaveLength(fixture.items.length + 1);
    expect(halfway.filter((k) => k.startsWith('COMP#') || k.startsWith('MAC#')).length).toBe(11);

    const second = await migrateSiteKeys(aws.clients);
    expect(second).toMatchObject({ converted: 13, superseded: 0, markersRemoved: 3, adoptedSites: [], remaining: 0, problems: [] });
    const done = await scan();
    expect(keysOf(done)).toHaveLength(fixture.items.length + 1 - 3);
    expect(keysOf(done)).toEqual(expect.arrayContaining([
      'COMP#lab-a#x1000c0s0b0n0 | COMP', 'COMP#lab-a#x1000c0s0b0n0 | HW', 'MAC#lab-a#52:54:00:12:34:56 | MAC', 'IP#lab-a#default#10.0.0.10 | IP', 'NID#lab-a#1 | NID',
      'NID#legacy#100 | NID', 'GROUP#compute | MEMBER#legacy#x2000c0s0b0n0', 'EXCL#racks#lab-a#x1000c0s0b0n0 | EXCL', 'PART#p1 | MEMBER#local#x3000c0s0b0n0', 'RFE#legacy#x2000c0s0b0 | RFE',
      'SITE#legacy | SITE',
    ]));
    expect(keysOf(done).filter((k) => k.startsWith('INV#'))).toEqual([]);

    const third = await migrateSiteKeys(aws.clients);
    expect(third).toEqual({ scanned: done.length, converted: 0, superseded: 0, markersRemoved: 0, adoptedSites: [], remaining: 0, problems: [] });
    expect(await scan()).toEqual(done);
  });

  it('afterwards every record is reachable by site: components by xname, MAC and NID, groups, partitions, hardware, BMCs, boot configurations', async () => {
    const a = await ok(viewer, 'component', { xname: 'x1000c0s0b0n0', site: 'lab-a' });
    expect(a).toMatchObject({ site: 'lab-a', nid: 1, groups: ['compute', 'rack-1'], interfaces: [{ mac: '52:54:00:12:34:56', ipAddresses: ['10.0.0.10'] }, { mac: '02:00:00:00:00:01', network: 'hsn' }] });
    expect(await ok(viewer, 'component', { xname: 'x2000c0s0b0n0', site: 'legacy' })).toMatchObject({ site: 'legacy', nid: 100, state: 'ON' });
    expect(await ok(viewer, 'component', { xname: 'x3000c0s0b0n0' })).toMatchObject({ site: 'local', partition: 'p1' });
    expect((await ok(viewer, 'componentByMac', { mac: '52:54:00:12:34:56', site: 'lab-a' })).xname).toBe('x1000c0s0b0n0');
    expect((await ok(viewer, 'componentByMac', { mac: '02:bb:00:00:00:01', site: 'legacy' })).xname).toBe('x2000c0s0b0n0');
    const all = await ok(viewer, 'components', { first: 100 });
    expect(all.edges.map((e: { node: { site: string; xname: string } }) => `${e.node.site}/${e.node.xname}`)).toEqual([
      'lab-a/x1000c0s0b0', 'lab-a/x1000c0s0b0n0', 'lab-a/x1000c0s1b0n0', 'legacy/x2000c0s0b0n0', 'local/x3000c0s0b0n0',
    ]);

    // The migrated claims still hold: nid 1, 10.0.0.10 and the MAC are taken in lab-a, free in legacy.
    const clash = await ok(operator, 'upsertComponents', {
      input: [
        { xname: 'x1000c0s9b0n0', site: 'lab-a', nid: 1 },
        { xname: 'x1000c0s8b0n0', site: 'lab-a', interfaces: [{ mac: '02:99:00:00:00:01', ipAddresses: ['10.0.0.10'] }] },
        { xname: 'x1000c0s7b0n0', site: 'lab-a', interfaces: [{ mac: '52:54:00:12:34:56' }] },
      ],
    });
    expect(clash.errors.map((e: { code: string; message: string }) => [e.code, e.message.split(':')[0]])).toEqual([
      ['CONFLICT', 'nid'],
      ['CONFLICT', 'interfaces[0].ipAddresses'],
      ['CONFLICT', 'interfaces[0].mac'],
    ]);
    expect((await ok(operator, 'upsertComponents', { input: [{ xname: 'x1000c0s9b0n0', site: 'legacy', nid: 1, interfaces: [{ mac: '52:54:00:12:34:56', ipAddresses: ['10.0.0.10'] }] }] })).errors).toEqual([]);

    const members = await ok(viewer, 'groupMembers', {}, { label: 'compute' });
    expect(members.edges.map((e: { node: { site: string; xname: string } }) => `${e.node.site}/${e.node.xname}`).sort()).toEqual(['lab-a/x1000c0s0b0n0', 'lab-a/x1000c0s1b0n0', 'legacy/x2000c0s0b0n0']);
    expect((await ok(viewer, 'components', { filter: { group: 'compute', site: 'lab-a' } })).edges).toHaveLength(2);
    await ok(operator, 'createGroup', { input: { label: 'rack-2', exclusiveGroup: 'racks' } });
    expect((await ok(operator, 'addGroupMembers', { label: 'rack-2', xnames: ['x1000c0s1b0n0'], site: 'lab-a' })).changed).toEqual(['x1000c0s1b0n0']);
    const [excl] = await callMany(operator, [{ operation: 'addGroupMembers', args: { label: 'rack-2', xnames: ['x1000c0s0b0n0'], site: 'lab-a' } }]);
    expect(excl).toMatchObject({ ok: false, error: { code: 'CONFLICT' } });
    const part = await ok(viewer, 'partitionMembers', {}, { name: 'p1' });
    expect(part.edges.map((e: { node: { site: string; xname: string } }) => `${e.node.site}/${e.node.xname}`).sort()).toEqual(['lab-a/x1000c0s1b0n0', 'local/x3000c0s0b0n0']);
    expect(await ok(viewer, 'componentHardware', {}, { xname: 'x1000c0s0b0n0', site: 'lab-a' })).toMatchObject({ serialNumber: 'SN-1', totalMemoryMiB: 4096 });
    expect(await ok(viewer, 'redfishEndpoint', { xname: 'x1000c0s0b0', site: 'lab-a' })).toMatchObject({ address: '10.254.0.1' });
    expect(await ok(viewer, 'redfishEndpoint', { xname: 'x2000c0s0b0', site: 'legacy' })).toMatchObject({ address: '10.254.2.1' });

    expect(await callDomain(boot, 'boot', 'bootConfigurationFor', { xname: 'x1000c0s0b0n0', site: 'lab-a' })).toMatchObject({ matchedSelector: 'xname:x1000c0s0b0n0' });
    expect(await callDomain(boot, 'boot', 'bootConfigurationFor', { xname: 'x1000c0s1b0n0', site: 'lab-a' })).toMatchObject({ matchedSelector: 'group:compute' });
    expect(await callDomain(boot, 'boot', 'bootConfigurationFor', { xname: 'x2000c0s0b0n0', site: 'legacy' })).toMatchObject({ matchedSelector: 'nid:100' });
    expect(await callDomain(boot, 'boot', 'cloudInitFor', { xname: 'x1000c0s0b0n0', site: 'lab-a' })).toMatchObject({ userData: '#cloud-config\n' });
    // The site the old inventory kept to itself is now in the one registry.
    expect(await callDomain(sites, 'sites', 'site', { name: 'legacy' })).toMatchObject({ name: 'legacy' });
  });
});
