import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXName } from '../../../schema/xname.js';
import { assignBmcXNames, bmcIdentityKey, generatedBmcXName, IDENTITY_CABINET_BASE, identityBmcXName, loadXNameMap, nodeXName } from '../../../onprem-agent/redfish/identity.js';
import { tempDir } from '../../integration/redfish/support.js';

describe('BMC and node xnames', () => {
  test('generated names are valid NodeBMC xnames, distinct for every address and port', () => {
    const seen = new Set<string>();
    const hosts = ['10.0.0.1', '10.0.1.0', '10.1.0.0', '11.0.0.0', '255.255.255.255', '0.0.0.0'];
    for (const h of hosts) {
      for (const port of [1, 80, 443, 8443, 65535]) {
        const x = generatedBmcXName(h, port);
        expect(parseXName(x).type).toBe('NodeBMC');
        expect(seen.has(x)).toBe(false);
        seen.add(x);
      }
    }
    for (let port = 1; port <= 65535; port += 7) seen.add(generatedBmcXName('127.0.0.1', port));
    expect(seen.size).toBe(hosts.length * 5 + Math.ceil(65535 / 7));
    expect(parseXName(nodeXName(generatedBmcXName('10.0.0.1', 443), 3)).type).toBe('Node');
  });

  test('inventory names win over the map, the map over generated names', () => {
    const bmcs = [
      { host: '10.0.0.1', port: 443, ip: '10.0.0.1' },
      { host: '10.0.0.2', port: 443, ip: '10.0.0.2' },
      { host: '10.0.0.3', port: 443, ip: '10.0.0.3' },
    ];
    const { names, conflicts } = assignBmcXNames(bmcs, {
      inventory: { '10.0.0.1': 'x3000c0s1b0' },
      userMap: { '10.0.0.1': 'x3000c0s9b0', '10.0.0.2:443': 'x3000c0s2b0' },
    });
    expect(names.get('10.0.0.1:443')).toEqual({ xname: 'x3000c0s1b0', source: 'inventory' });
    expect(names.get('10.0.0.2:443')).toEqual({ xname: 'x3000c0s2b0', source: 'map' });
    expect(names.get('10.0.0.3:443')).toEqual({ xname: generatedBmcXName('10.0.0.3', 443), source: 'generated' });
    expect(conflicts).toEqual([]);
  });

  test('two BMCs never share a name: a duplicate mapping falls back to the generated name', () => {
    const bmcs = [
      { host: '10.0.0.1', port: 443, ip: '10.0.0.1' },
      { host: '10.0.0.1', port: 8443, ip: '10.0.0.1' },
    ];
    const { names, conflicts } = assignBmcXNames(bmcs, { userMap: { '10.0.0.1': 'x3000c0s1b0' } });
    const all = [...names.values()].map((n) => n.xname);
    expect(new Set(all).size).toBe(2);
    expect(names.get('10.0.0.1:443')!.xname).toBe('x3000c0s1b0');
    expect(names.get('10.0.0.1:8443')!.source).toBe('generated');
    expect(conflicts[0]).toMatch(/10\.0\.0\.1:8443: map name x3000c0s1b0 is already 10\.0\.0\.1:443's/);
  });

  test('map files are JSON or HOST XNAME lines; bad entries are named', async () => {
    const dir = tempDir('skyboot-map-');
    try {
      const json = join(dir.path, 'map.json');
      writeFileSync(json, JSON.stringify({ '10.0.0.5': 'X3000C0S05B0' }));
      expect(await loadXNameMap(json)).toEqual({ '10.0.0.5': 'x3000c0s5b0' });
      const text = join(dir.path, 'map.txt');
      writeFileSync(text, '# site A\n10.0.0.6 x3000c0s6b0\n10.0.0.7:8443=x3000c0s7b0\n');
      expect(await loadXNameMap(text)).toEqual({ '10.0.0.6': 'x3000c0s6b0', '10.0.0.7:8443': 'x3000c0s7b0' });
      writeFileSync(text, '10.0.0.8 x3000c0s8b0n0\n');
      await expect(loadXNameMap(text)).rejects.toThrow(/is a Node; a BMC with nodes needs a NodeBMC xname/);
    } finally {
      dir.remove();
    }
  });
});

describe('BMC identity keys', () => {
  const none = { uuid: null, managers: [], managerNics: [], systems: [] };
  test('prefer the service UUID, then manager UUID, MAC, serial; all-zero UUIDs identify nothing', () => {
    expect(bmcIdentityKey({ ...none, uuid: 'AB-12' })).toBe('uuid:ab-12');
    expect(bmcIdentityKey({ ...none, uuid: '00000000-0000-0000-0000-000000000000', managers: [{ uuid: 'M-1' }] })).toBe('manager-uuid:m-1');
    expect(bmcIdentityKey({ ...none, managerNics: [{ mac: 'B8:00:00:00:00:02' }, { mac: 'a8:00:00:00:00:01' }] })).toBe('mac:a8:00:00:00:00:01');
    expect(bmcIdentityKey({ ...none, systems: [{ serial: ' SN123 ' }] })).toBe('serial:SN123');
    expect(bmcIdentityKey(none)).toBeNull();
  });

  test('identity names are valid NodeBMC xnames above the address-name cabinets, one per identity', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const x = identityBmcXName(`uuid:${i}`);
      expect(Number(/^x(\d+)/.exec(x)![1])).toBeGreaterThanOrEqual(IDENTITY_CABINET_BASE);
      seen.add(x);
    }
    expect(parseXName(identityBmcXName('mac:a8:00:00:00:00:01')).type).toBe('NodeBMC');
    expect(seen.size).toBe(20_000);
    expect(identityBmcXName('uuid:1')).toBe(identityBmcXName('uuid:1'));
  });

  test('an identity keeps its previous name on a new address; without identity, the address names it', () => {
    const { names } = assignBmcXNames(
      [{ host: '10.0.0.9', port: 443, ip: '10.0.0.9', identity: 'uuid:a' }, { host: '10.0.0.1', port: 443, ip: '10.0.0.1', identity: 'uuid:b' }, { host: '10.0.0.2', port: 443, ip: '10.0.0.2', identity: null }],
      { previous: new Map([['uuid:a', 'x3000c0s1b0']]) },
    );
    expect(names.get('10.0.0.9:443')).toEqual({ xname: 'x3000c0s1b0', source: 'previous' });
    expect(names.get('10.0.0.1:443')).toEqual({ xname: identityBmcXName('uuid:b'), source: 'generated' });
    expect(names.get('10.0.0.2:443')).toEqual({ xname: generatedBmcXName('10.0.0.2', 443), source: 'generated' });
  });
});

describe('a BMC that moved to an address the inventory gives another BMC', () => {
  test('keeps the name its hardware had; the BMC that now has no address in the inventory keeps its own too', () => {
    // Before: A (uuid:a) at .1 was x3000c0s1b0, B (uuid:b) at .2 was x3000c0s2b0. Now they swapped addresses.
    const inventory = { '10.0.0.1': 'x3000c0s1b0', '10.0.0.2': 'x3000c0s2b0' };
    const previous = new Map([['uuid:a', 'x3000c0s1b0'], ['uuid:b', 'x3000c0s2b0']]);
    const { names, conflicts } = assignBmcXNames(
      [{ host: '10.0.0.1', port: 443, ip: '10.0.0.1', identity: 'uuid:b' }, { host: '10.0.0.2', port: 443, ip: '10.0.0.2', identity: 'uuid:a' }],
      { inventory, previous },
    );
    expect(names.get('10.0.0.1:443')).toEqual({ xname: 'x3000c0s2b0', source: 'previous' });
    expect(names.get('10.0.0.2:443')).toEqual({ xname: 'x3000c0s1b0', source: 'previous' });
    expect(conflicts[0]).toMatch(/10\.0\.0\.1:443: the inventory names this address x3000c0s1b0, but the BMC here is x3000c0s2b0 \(same uuid\), which moved/);
  });
});
