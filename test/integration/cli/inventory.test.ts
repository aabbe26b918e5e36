/**
 * skyboot component / group / partition / redfish-endpoint / power / discovery / audit against the
 * real gateway (DynamoDB Local behind it), through the same runCli the binary calls. Each test
 * works in its own site, created with `skyboot site create`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { graphqlClient } from '../../../cli/client.js';
import { runCli } from '../../../cli/program.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

describe('skyboot inventory commands against the gateway', () => {
  let gw: TestGateway;
  let dir: string;
  beforeAll(async () => {
    gw = await startTestGateway();
    dir = mkdtempSync(join(tmpdir(), 'skyboot-cli-inv-'));
  });
  afterAll(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(args: string[], token = gw.tokens.admin) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql: graphqlClient({ url: `${gw.url}/graphql`, token }), apiUrl: `${gw.url}/graphql`, out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    return { code, out, err, text: out.join('\n'), errText: err.join('\n') };
  }
  async function site(name: string) {
    expect((await cli(['site', 'create', name])).code).toBe(0);
  }
  /** 16 nodes x1000c0s[0-7]b0n[0-1] with nids 1-16 and MACs, loaded from a YAML file. */
  async function loadNodes(s: string) {
    const nodes = Array.from({ length: 16 }, (_, i) => `- xname: x1000c0s${i >> 1}b0n${i & 1}\n  role: ${i < 12 ? 'COMPUTE' : 'SERVICE'}\n  nid: ${i + 1}\n  arch: X86\n  interfaces: [{ mac: "02:00:00:10:00:${(i + 1).toString(16).padStart(2, '0')}" }]`);
    const file = join(dir, `${s}.yaml`);
    writeFileSync(file, nodes.join('\n'));
    const r = await cli(['component', 'upsert', '--file', file, '--site', s]);
    expect({ code: r.code, err: r.errText }).toEqual({ code: 0, err: 'created 16, updated 0, unchanged 0, failed 0' });
  }

  it('component upsert from a file, list as table / wide / json / yaml / csv / --no-headers, narrowed by hostlist, nid range, role and group', async () => {
    await site('inv-a');
    await loadNodes('inv-a');

    const table = await cli(['component', 'list', '--site', 'inv-a']);
    expect(table.code).toBe(0);
    expect(table.out[0]).toMatch(/^XNAME\s+TYPE\s+STATE\s+FLAG\s+ROLE\s+NID\s+ARCH\s+ENABLED$/);
    expect(table.out).toHaveLength(17);
    expect(table.text).toMatch(/x1000c0s0b0n1\s+Node\s+\w+\s+OK\s+COMPUTE\s+2\s+X86\s+true/);

    const wide = await cli(['component', 'list', '--site', 'inv-a', '-o', 'wide', '--no-headers', 'x1000c0s0b0n0']);
    expect(wide.out).toHaveLength(1);
    expect(wide.out[0]).toMatch(/^x1000c0s0b0n0\s+Node .* 02:00:00:10:00:01 .* inv-a\s+1\s+\S+$/);

    const json = JSON.parse((await cli(['component', 'list', '--site', 'inv-a', '-o', 'json', 'x1000c0s[0-1]b0n[0-1]'])).text) as { xname: string; nid: number }[];
    expect(json.map((c) => c.xname).sort()).toEqual(['x1000c0s0b0n0', 'x1000c0s0b0n1', 'x1000c0s1b0n0', 'x1000c0s1b0n1']);

    const yaml = parseYaml((await cli(['component', 'list', '--site', 'inv-a', '-o', 'yaml', 'nid[0003-0004]'])).text) as { xname: string; nid: number }[];
    expect(yaml.map((c) => [c.xname, c.nid])).toEqual([['x1000c0s1b0n0', 3], ['x1000c0s1b0n1', 4]]);

    const csv = await cli(['component', 'list', '--site', 'inv-a', '-o', 'csv', 'role:service']);
    expect(csv.out[0]).toBe('XNAME,TYPE,STATE,FLAG,ROLE,NID,ARCH,ENABLED,SUBROLE,MACS,IPS,GROUPS,PARTITION,SITE,VERSION,UPDATED');
    expect(csv.out.slice(1).map((l) => l.split(',')[0])).toEqual(['x1000c0s6b0n0', 'x1000c0s6b0n1', 'x1000c0s7b0n0', 'x1000c0s7b0n1']);
    const bare = await cli(['component', 'list', '--site', 'inv-a', '-o', 'csv', '--no-headers', 'nid16']);
    expect(bare.out).toHaveLength(1);
    expect(bare.out[0]).toMatch(/^x1000c0s7b0n1,Node,/);

    // Groups: create, add by hostlist, list members with @group, remove, delete.
    expect((await cli(['group', 'create', 'gpu', '--description', 'GPU nodes', '--tag', 'hw'])).code).toBe(0);
    const add = await cli(['group', 'add', 'gpu', 'x1000c0s[2-3]b0n[0-1]', '--site', 'inv-a']);
    expect({ code: add.code, err: add.errText }).toEqual({ code: 0, err: 'group gpu: added 4 of 4' });
    const members = await cli(['component', 'list', '--site', 'inv-a', '-o', 'json', '@gpu']);
    expect((JSON.parse(members.text) as { xname: string }[]).map((c) => c.xname)).toEqual(['x1000c0s2b0n0', 'x1000c0s2b0n1', 'x1000c0s3b0n0', 'x1000c0s3b0n1']);
    const show = await cli(['group', 'show', 'gpu']);
    expect(show.errText).toBe('group gpu: 4 member(s): GPU nodes');
    expect(show.out[0]).toMatch(/^XNAME\s+TYPE/);
    expect((await cli(['group', 'list'])).text).toMatch(/^gpu\s+GPU nodes\s+hw$/m);
    expect((await cli(['group', 'remove', 'gpu', 'nid5', '--site', 'inv-a'])).out).toEqual(['x1000c0s2b0n0']);
    expect((await cli(['group', 'delete', 'gpu'])).code).toBe(0);
    expect((await cli(['group', 'show', 'gpu'])).errText).toBe('skyboot: group gpu not found');

    // Partitions, the same verbs.
    expect((await cli(['partition', 'create', 'p1', '--description', 'first'])).code).toBe(0);
    expect((await cli(['partition', 'add', 'p1', 'role:service', '--site', 'inv-a'])).errText).toBe('partition p1: added 4 of 4');
    const pm = await cli(['component', 'list', '--site', 'inv-a', '--partition', 'p1', '-o', 'json']);
    expect((JSON.parse(pm.text) as unknown[]).length).toBe(4);
    expect((await cli(['partition', 'update', 'p1', '--description', 'service nodes'])).text).toMatch(/p1\s+service nodes/);
  });

  it('component update / state / move / delete, and refusals that name the input path, the value and the allowed values', async () => {
    await site('inv-b');
    await site('inv-c');
    await loadNodes('inv-b');

    const upd = await cli(['component', 'update', 'x1000c0s0b0n0', '--site', 'inv-b', '--sub-role', 'gpu', '--flag', 'warning', '-o', 'json']);
    expect(JSON.parse(upd.text)).toMatchObject({ xname: 'x1000c0s0b0n0', subRole: 'gpu', flag: 'WARNING', role: 'COMPUTE', nid: 1 });

    const st = await cli(['component', 'state', 'x1000c0s[0-1]b0n0', '--site', 'inv-b', '--state', 'ready', '--force', '-o', 'csv', '--no-headers']);
    expect(st.code).toBe(0);
    expect(st.out.map((l) => l.split(',').slice(0, 3).join(','))).toEqual(['x1000c0s0b0n0,Node,READY', 'x1000c0s1b0n0,Node,READY']);

    const bad = await cli(['component', 'state', 'x1000c0s0b0n0', '--site', 'inv-b', '--state', 'running']);
    expect(bad.code).toBe(2);
    expect(bad.errText).toMatch(/--state <state>' argument 'running' is invalid\. "running" is not one of unknown, empty, populated, off, on, standby, halt, ready\./);
    const badNid = await cli(['component', 'update', 'x1000c0s0b0n0', '--site', 'inv-b', '--nid', 'high']);
    expect(badNid.code).toBe(2);
    expect(badNid.errText).toMatch(/--nid <nid>' argument 'high' is invalid\. "high" is not an integer\./);

    // A bulk upsert with a broadcast MAC in element 1 and a NID another node holds in element 2.
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify([
      { xname: 'x1001c0s0b0n0', nid: 100 },
      { xname: 'x1001c0s0b0n1', interfaces: [{ mac: '02:00:00:00:01:01' }, { mac: 'ff:ff:ff:ff:ff:ff' }] },
      { xname: 'x1001c0s1b0n0', nid: 1 },
    ]));
    const up = await cli(['component', 'upsert', '--file', file, '--site', 'inv-b']);
    expect(up.code).toBe(1);
    expect(up.err[0]).toBe('created 1, updated 0, unchanged 0, failed 2');
    expect(up.err[1]).toMatch(/^input\[1\]\.interfaces\[1\]\.mac \(x1001c0s0b0n1\): BAD_USER_INPUT: .*ff:ff:ff:ff:ff:ff.*broadcast/i);
    expect(up.err[2]).toBe("input[2].nid (x1001c0s1b0n0): CONFLICT: nid: 1 already belongs to x1000c0s0b0n0 of site inv-b");
    expect(up.errText).toMatch(/skyboot: 2 of 3 components refused/);

    const moved = await cli(['component', 'move', 'x1000c0s7b0n1', '--from', 'inv-b', '--to', 'inv-c', '-o', 'json']);
    expect(JSON.parse(moved.text)).toMatchObject({ xname: 'x1000c0s7b0n1', site: 'inv-c', nid: 16 });

    const del = await cli(['component', 'delete', 'nid[15]', 'x1001c0s0b0n0', '--site', 'inv-b']);
    expect(del.err).toEqual(['deleted x1000c0s7b0n0', 'deleted x1001c0s0b0n0']);
    const left = await cli(['component', 'list', '--site', 'inv-b', '-o', 'csv', '--no-headers']);
    expect(left.out).toHaveLength(14);

    const unknownNid = await cli(['component', 'state', 'nid[1,999]', '--site', 'inv-b', '--state', 'ready', '--force']);
    expect(unknownNid.errText).toMatch(/warning: nid999 matches no component/);
    const badTarget = await cli(['component', 'delete', 'x1000c0s[0-3', '--site', 'inv-b']);
    expect({ code: badTarget.code, err: badTarget.errText }).toEqual({ code: 2, err: 'skyboot: hostlist "x1000c0s[0-3": "[" is never closed' });
  });

  it('redfish-endpoint upsert / list / show / delete', async () => {
    await site('inv-d');
    const up = await cli(['redfish-endpoint', 'upsert', 'x1000c0s0b0', '--address', '10.1.0.10:443', '--credentials-ref', 'bmc/default', '--site', 'inv-d']);
    expect(up.code).toBe(0);
    expect(up.out[0]).toMatch(/^XNAME\s+ADDRESS\s+ENABLED\s+DISCOVERY\s+LAST DISCOVERED$/);
    expect(up.out[1]).toMatch(/^x1000c0s0b0\s+10\.1\.0\.10:443\s+true\s+PENDING\s+-$/);
    const list = await cli(['redfish-endpoint', 'list', '--site', 'inv-d', '--status', 'pending', '-o', 'json']);
    expect(JSON.parse(list.text)).toEqual([expect.objectContaining({ xname: 'x1000c0s0b0', credentialsRef: 'bmc/default', site: 'inv-d' })]);
    const show = await cli(['redfish-endpoint', 'show', 'x1000c0s0b0', '--site', 'inv-d']);
    expect(show.out[0]).toMatch(/TYPE\s+CREDENTIALS\s+ERROR\s+SITE\s+VERSION$/);
    expect((await cli(['redfish-endpoint', 'delete', 'x1000c0s0b0', '--site', 'inv-d'])).errText).toBe('deleted Redfish endpoint x1000c0s0b0');
    expect((await cli(['redfish-endpoint', 'show', 'x1000c0s0b0', '--site', 'inv-d'])).errText).toBe('skyboot: Redfish endpoint x1000c0s0b0 not found');
  });

  it('power --no-wait queues one request for the resolved nodes; a wait with no agent times out naming the request; power show reads it', async () => {
    await site('inv-e');
    await loadNodes('inv-e');
    const q = await cli(['power', 'on', 'x1000c0s[0-1]b0n0,nid16', '--site', 'inv-e', '--no-wait', '-o', 'json'], gw.tokens.operator);
    expect(q.code).toBe(0);
    const [req] = JSON.parse(q.text) as { id: string; status: string; xnames: string[]; action: string }[];
    expect(req).toMatchObject({ status: 'PENDING', action: 'ON', xnames: ['x1000c0s0b0n0', 'x1000c0s1b0n0', 'x1000c0s7b0n1'] });
    const show = await cli(['power', 'show', req!.id, '-o', 'yaml']);
    expect(parseYaml(show.text)).toMatchObject({ id: req!.id, status: 'PENDING' });

    const wait = await cli(['power', 'pxe-once', 'nid1', '--site', 'inv-e', '--timeout', '1', '--interval', '200'], gw.tokens.operator);
    expect(wait.code).toBe(1);
    expect(wait.errText).toMatch(/^skyboot: power request \S+ still PENDING after 1 s \(is the site's agent running\?\); check later with `skyboot power show \S+`$/);
    const ghost = await cli(['power', 'off', 'x9999c0s0b0n0', '--site', 'inv-e', '--no-wait'], gw.tokens.operator);
    expect(ghost.code).toBe(1);
    expect(ghost.errText).toMatch(/NOT_FOUND.*x9999c0s0b0n0/);

    // Both requests are pending (no agent ran): power list shows them newest first, --status narrows, --limit cuts.
    const list = await cli(['power', 'list', '--site', 'inv-e', '-o', 'json']);
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.text) as { id: string; action: string; status: string }[];
    expect(listed.map((r) => [r.action, r.status])).toEqual([['PXE_ONCE', 'PENDING'], ['ON', 'PENDING']]);
    expect(listed[1]!.id).toBe(req!.id);
    const one = await cli(['power', 'list', '--site', 'inv-e', '--status', 'pending', '--limit', '1', '-o', 'json']);
    expect((JSON.parse(one.text) as { action: string }[]).map((r) => r.action)).toEqual(['PXE_ONCE']);
    const done = await cli(['power', 'list', '--site', 'inv-e', '--status', 'done']);
    expect({ code: done.code, out: done.out }).toEqual({ code: 0, out: ['ID  ACTION  STATUS  NODES  FAILED  CREATED'] });
    const bad = await cli(['power', 'list', '--site', 'inv-e', '--status', 'finished']);
    expect(bad.code).not.toBe(0);
    expect(bad.errText).toContain('"finished" is not one of pending, running, done');
  });

  it('discovery show with no reports yet prints the header only; audit lists the changes this file made', async () => {
    await site('inv-f');
    const d = await cli(['discovery', 'show', '--site', 'inv-f']);
    expect({ code: d.code, out: d.out }).toEqual({ code: 0, out: ['AT  AGENT  ENDPOINTS  COMPONENTS  REJECTED'] });
    const a = await cli(['audit', '--site', 'inv-a', '--limit', '5', '-o', 'json']);
    expect(a.code).toBe(0);
    const records = JSON.parse(a.text) as { operation: string; target: string; site: string }[];
    expect(records).toHaveLength(5);
    for (const r of records) expect(r.site).toBe('inv-a');
    const t = await cli(['audit', '--site', 'inv-a', '--limit', '3']);
    expect(t.out[0]).toMatch(/^AT\s+ACTOR\s+OPERATION\s+TARGET\s+SITE$/);
    expect(t.out).toHaveLength(4);
  });
});
