import { freshAws, type TestAws } from '../../support/aws.js';
import { admin, agentOf, callMany, createSites, fails, ok, operator, viewer, stopSitesAuth } from './call.js';

const hardware = (serial: string) => ({
  manufacturer: 'HPE',
  model: 'XL675d',
  serialNumber: serial,
  processors: [
    { socket: 'CPU0', manufacturer: 'AMD', model: 'EPYC 7763', architecture: 'x86_64', cores: 64, threads: 128, maxSpeedMHz: 3500 },
    { socket: 'CPU1', manufacturer: 'AMD', model: 'EPYC 7763', architecture: 'x86_64', cores: 64, threads: 128, maxSpeedMHz: 3500 },
  ],
  memory: Array.from({ length: 4 }, (_, i) => ({ slot: `DIMM${i}`, capacityMiB: 65536, memoryType: 'DDR4', speedMHz: 3200 })),
  accelerators: [{ slot: 'GPU0', manufacturer: 'NVIDIA', model: 'A100', memoryMiB: 40960, serialNumber: `g-${serial}` }],
  nics: [{ name: 'eth0', manufacturer: 'Mellanox', macAddresses: ['02-DD-00-00-00-01'], firmwareVersion: '20.31' }],
  firmware: [{ name: 'BMC', version: '1.2.3' }, { name: 'BIOS', version: 'A48' }],
});

describe('inventory discovery reports, Redfish endpoints and hardware inventory', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('inv-disco');
    await createSites('s5', 's6', 's7', 's8');
  });
  afterAll(async () => {
    await aws.dispose();
    await stopSitesAuth();
  });

  const report = (key: string) => ({
    input: {
      idempotencyKey: key,
      endpoints: [{ xname: 'x5c0s0b0', address: '10.5.0.100:443', discoveryStatus: 'OK' }, { xname: 'x5c0s1b0', address: '10.5.0.101', discoveryStatus: 'FAILED', error: 'HTTP 401' }],
      components: [
        { xname: 'x5c0s0b0', state: 'READY' },
        { xname: 'x5c0s0b0n0', state: 'ON', arch: 'X86', interfaces: [{ mac: '02:dd:00:00:00:01', ipAddresses: ['10.5.1.1'] }], hardware: hardware('SN001') },
        { xname: 'x5c0s0b0n1', state: 'OFF', hardware: hardware('SN002') },
      ],
    },
  });

  it('an agent reports its site: endpoints, components, interfaces and hardware in one call', async () => {
    const res = await ok(agentOf('s5'), 'reportDiscovery', report('walk-1'));
    expect(res).toEqual({ idempotencyKey: 'walk-1', replayed: false, endpoints: 2, components: 3, errors: [], errorsOmitted: 0 });
    const node = await ok(viewer, 'component', { xname: 'x5c0s0b0n0', site: 's5' });
    expect(node).toMatchObject({ site: 's5', state: 'ON', version: 1, interfaces: [{ mac: '02:dd:00:00:00:01', ipAddresses: ['10.5.1.1'] }] });
    const ep = await ok(viewer, 'redfishEndpoint', { xname: 'x5c0s1b0', site: 's5' });
    expect(ep).toMatchObject({ xname: 'x5c0s1b0', type: 'NodeBMC', address: '10.5.0.101', discoveryStatus: 'FAILED', lastDiscoveryError: 'HTTP 401', site: 's5' });
    expect(ep.lastDiscoveredAt).toEqual(expect.any(String));
    const hw = await ok(viewer, 'componentHardware', {}, { xname: 'x5c0s0b0n0', site: 's5' });
    expect(hw).toMatchObject({ xname: 'x5c0s0b0n0', serialNumber: 'SN001', totalMemoryMiB: 262144, version: 1 });
    expect(hw.processors).toHaveLength(2);
    expect(hw.accelerators[0]).toMatchObject({ model: 'A100', memoryMiB: 40960 });
    expect(hw.nics[0].macAddresses).toEqual(['02:dd:00:00:00:01']);
    expect(hw.firmware).toEqual([{ name: 'BMC', version: '1.2.3' }, { name: 'BIOS', version: 'A48' }]);
  });

  it('a redelivered report (same idempotencyKey) is applied once', async () => {
    const auditBefore = (await ok(admin, 'auditLog', { first: 1000 })).edges.length;
    const again = await ok(agentOf('s5'), 'reportDiscovery', report('walk-1'));
    expect(again).toMatchObject({ idempotencyKey: 'walk-1', replayed: true, endpoints: 2, components: 3 });
    expect((await ok(viewer, 'component', { xname: 'x5c0s0b0n0', site: 's5' })).version).toBe(1);
    expect((await ok(viewer, 'componentHardware', {}, { xname: 'x5c0s0b0n0', site: 's5' })).version).toBe(1);
    expect((await ok(admin, 'auditLog', { first: 1000 })).edges.length).toBe(auditBefore);
    // The same key with other content is CONFLICT, and nothing of it is applied.
    const changed = report('walk-1');
    (changed.input.components as { xname: string; state?: string }[])[1]!.state = 'OFF';
    expect(await fails(agentOf('s5'), 'reportDiscovery', changed)).toMatchObject({ code: 'CONFLICT', field: 'input.idempotencyKey', message: expect.stringContaining('walk-1 was already used for a different payload') });
    expect((await ok(viewer, 'component', { xname: 'x5c0s0b0n0', site: 's5' })).state).toBe('ON');
    // The same key from another site's agent is a different delivery.
    const other = await ok(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: 'walk-1', components: [{ xname: 'x6c0s0b0n0', state: 'ON' }] } });
    expect(other).toMatchObject({ replayed: false, components: 1 });
    // A new key applies again; the walk found what is stored, so no component is rewritten.
    const next = await ok(agentOf('s5'), 'reportDiscovery', report('walk-2'));
    expect(next).toMatchObject({ replayed: false, components: 3, errors: [] });
    expect((await ok(viewer, 'component', { xname: 'x5c0s0b0n0', site: 's5' })).version).toBe(1);
  });

  it("an agent's report addresses its own site only: the same xname elsewhere is another component; each refusal is a per-item error", async () => {
    const s5Before = await ok(viewer, 'component', { xname: 'x5c0s0b0n1', site: 's5' });
    const res = await ok(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: 'same-xname', components: [{ xname: 'x5c0s0b0n1', state: 'READY' }, { xname: 'x6c0s0b0n1' }] } });
    expect(res).toMatchObject({ components: 2, errors: [] });
    expect(await ok(viewer, 'component', { xname: 'x5c0s0b0n1', site: 's6' })).toMatchObject({ site: 's6', state: 'READY', version: 1 });
    expect(await ok(viewer, 'component', { xname: 'x5c0s0b0n1', site: 's5' })).toEqual(s5Before);
    const bad = await ok(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: 'bad', components: [{ xname: 'x6c0s0b0n2', interfaces: [{ mac: 'nope' }] }, { xname: 'x6c0s0b0n3' }] } });
    expect(bad.components).toBe(1);
    expect(bad.errors).toEqual([{ index: 0, path: 'input.components[0].interfaces[0].mac', xname: 'x6c0s0b0n2', code: 'BAD_USER_INPUT', message: expect.stringMatching(/^input\.components\[0\]\.interfaces\[0\]\.mac: /) }]);
    // A report that fails on every item stays small enough to store for replay: at most 500 errors listed, the rest counted.
    const many = Array.from({ length: 600 }, (_, i) => ({ xname: `x6c1s${Math.floor(i / 8)}b0n${i % 8}`, interfaces: [{ mac: `not-a-mac-${'z'.repeat(900)}-${i}` }] }));
    const capped = await ok(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: 'all-bad', components: many } });
    expect(capped).toMatchObject({ replayed: false, components: 0 });
    expect(capped.errors.length + capped.errorsOmitted).toBe(600);
    expect(capped.errors.length).toBeLessThanOrEqual(500);
    expect(Buffer.byteLength(JSON.stringify(capped))).toBeLessThan(400 * 1024);
    expect(await ok(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: 'all-bad', components: many } })).toMatchObject({ replayed: true, errorsOmitted: capped.errorsOmitted });
    // A malformed endpoint or xname refuses the whole report before anything is written.
    expect(await fails(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: 'bad2', endpoints: [{ xname: 'x6c0s9b0', address: 'a b', discoveryStatus: 'OK' }], components: [{ xname: 'x6c0s0b0n4' }] } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.endpoints[0].address',
    });
    expect(await ok(viewer, 'component', { xname: 'x6c0s0b0n4', site: 's6' })).toBeNull();
    expect(await fails(agentOf('s6'), 'reportDiscovery', { input: { idempotencyKey: '' } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.idempotencyKey' });
    expect(await fails(operator, 'reportDiscovery', report('human'))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it("a re-discovery keeps the addresses and network the operator gave a node's MACs; a MAC the walk no longer sees is released", async () => {
    await ok(operator, 'upsertComponents', { input: [{ xname: 'x8c7s0b0n0', site: 's8', role: 'COMPUTE', interfaces: [
      { mac: '02:ee:00:00:00:01', ipAddresses: ['10.8.0.1'], network: 'hsn' }, { mac: '02:ee:00:00:00:02', ipAddresses: ['10.8.1.1'], network: 'mgmt' },
    ] }] });
    const walk = { input: { idempotencyKey: 'walk-keep', components: [{ xname: 'x8c7s0b0n0', state: 'ON', interfaces: [{ mac: '02:EE:00:00:00:01', description: 'eth0' }, { mac: '02:ee:00:00:00:03' }] }] } };
    expect(await ok(agentOf('s8'), 'reportDiscovery', walk)).toMatchObject({ components: 1, errors: [] });
    const node = await ok(viewer, 'component', { xname: 'x8c7s0b0n0', site: 's8' });
    expect(node.interfaces).toEqual([
      expect.objectContaining({ mac: '02:ee:00:00:00:01', ipAddresses: ['10.8.0.1'], network: 'hsn', description: 'eth0' }),
      expect.objectContaining({ mac: '02:ee:00:00:00:03', ipAddresses: [], network: 'default' }),
    ]);
    // An address the walk does report is the one stored.
    await ok(agentOf('s8'), 'reportDiscovery', { input: { idempotencyKey: 'walk-keep-2', components: [{ xname: 'x8c7s0b0n0', interfaces: [{ mac: '02:ee:00:00:00:01', ipAddresses: ['10.8.0.9'] }] }] } });
    expect((await ok(viewer, 'component', { xname: 'x8c7s0b0n0', site: 's8' })).interfaces).toEqual([expect.objectContaining({ mac: '02:ee:00:00:00:01', ipAddresses: ['10.8.0.9'], network: 'hsn' })]);
  });

  it('Redfish endpoints: upsert, list per site with status filter, delete; bad address refused', async () => {
    const eps = await ok(operator, 'upsertRedfishEndpoints', { input: [{ xname: 'x7c0s0b0', address: 'bmc7.example.net:8443', credentialsRef: 'vault:bmc/x7', site: 's7' }] });
    expect(eps[0]).toMatchObject({ xname: 'x7c0s0b0', discoveryStatus: 'PENDING', credentialsRef: 'vault:bmc/x7', version: 1, enabled: true });
    expect(await fails(operator, 'upsertRedfishEndpoints', { input: [{ xname: 'x7c0s1b0', address: 'https://bmc/redfish' }] })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input[0].address' });
    const s5 = await ok(viewer, 'redfishEndpoints', { filter: { site: 's5' } });
    expect(s5.edges.map((e: { node: { xname: string } }) => e.node.xname)).toEqual(['x5c0s0b0', 'x5c0s1b0']);
    const failed = await ok(viewer, 'redfishEndpoints', { filter: { discoveryStatus: 'FAILED' } });
    expect(failed.edges.map((e: { node: { xname: string } }) => e.node.xname)).toEqual(['x5c0s1b0']);
    expect((await ok(agentOf('s5'), 'redfishEndpoints', {})).edges).toHaveLength(2);
    expect(await ok(agentOf('s5'), 'redfishEndpoint', { xname: 'x7c0s0b0' })).toBeNull();
    expect(await ok(viewer, 'redfishEndpoint', { xname: 'x7c0s0b0', site: 's7' })).toMatchObject({ site: 's7' });
    expect(await ok(operator, 'deleteRedfishEndpoint', { xname: 'x7c0s0b0', site: 's7' })).toBe(true);
    expect(await ok(viewer, 'redfishEndpoint', { xname: 'x7c0s0b0', site: 's7' })).toBeNull();
  });

  it('setHardwareInventory replaces a component inventory; unknown component is NOT_FOUND', async () => {
    const hw = await ok(operator, 'setHardwareInventory', { xname: 'x5c0s0b0n1', site: 's5', inventory: { serialNumber: 'SN002b', memory: [{ capacityMiB: 1024 }] } });
    expect(hw).toMatchObject({ serialNumber: 'SN002b', totalMemoryMiB: 1024, processors: [], version: 3 });
    expect(await fails(operator, 'setHardwareInventory', { xname: 'x5c9s0b0n1', site: 's5', inventory: {} })).toMatchObject({ code: 'NOT_FOUND' });
    expect(await fails(operator, 'setHardwareInventory', { xname: 'x5c0s0b0n1', site: 's5', inventory: { memory: [{ capacityMiB: -1 }] } })).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'inventory.memory[0].capacityMiB',
    });
  });

  it('Component.hardware for many components in one event is served by batched reads', async () => {
    const xnames = Array.from({ length: 150 }, (_, i) => `x8c0s${i}b0n0`);
    const up = await ok(operator, 'upsertComponents', { input: xnames.map((xname) => ({ xname, site: 's8' })) });
    expect(up.errors).toEqual([]);
    await ok(agentOf('s8'), 'reportDiscovery', { input: { idempotencyKey: 'hw', components: xnames.slice(0, 100).map((xname, i) => ({ xname, hardware: hardware(`S${i}`) })) } });
    const sent: string[] = [];
    const doc = aws.clients.doc;
    const original = doc.send.bind(doc);
    (doc as { send: unknown }).send = (cmd: { constructor: { name: string } }, ...rest: unknown[]) => {
      sent.push(cmd.constructor.name);
      return (original as (...a: unknown[]) => unknown)(cmd, ...rest);
    };
    try {
      const results = await callMany(viewer, xnames.map((xname) => ({ operation: 'componentHardware', source: { xname, site: 's8' } })));
      expect(results.every((r) => r.ok)).toBe(true);
      const values = results.map((r) => (r.ok ? (r.value as { serialNumber: string } | null) : undefined));
      expect(values.slice(0, 100).map((v) => v?.serialNumber)).toEqual(xnames.slice(0, 100).map((_, i) => `S${i}`));
      expect(values.slice(100)).toEqual(Array(50).fill(null));
    } finally {
      (doc as { send: unknown }).send = original;
    }
    expect(sent).toEqual(['BatchGetCommand', 'BatchGetCommand']);
  });
});
