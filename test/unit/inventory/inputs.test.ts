import { applyChanges, readComponentInput } from '../../../functions/inventory/componentInput.js';
import { readFilter } from '../../../functions/inventory/componentList.js';
import { normaliseInterfaces } from '../../../functions/inventory/interfaces.js';
import { readHardware } from '../../../functions/inventory/hardware.js';
import { address } from '../../../functions/inventory/redfishEndpoints.js';

const err = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as { code: string; field: string; message: string };
  }
  throw new Error('expected an error');
};

describe('inventory input checking (handler-side, for agents and direct callers)', () => {
  it('normalises xname, type, MACs and IPs from a ComponentInput', () => {
    const c = readComponentInput({ xname: 'X01000C00S1B0N0', role: 'SERVICE', interfaces: [{ mac: 'AABB.CCDD.EEFF', ipAddresses: ['10.0.0.1', '10.0.0.1'] }] }, '');
    expect(c.xname).toBe('x1000c0s1b0n0');
    expect(c.type).toBe('Node');
    expect(c.changes.role).toBe('SERVICE');
    expect(c.changes.interfaces).toEqual([{ mac: 'aa:bb:cc:dd:ee:ff', ipAddresses: ['10.0.0.1'], network: 'default' }]);
  });

  it.each([
    [{ xname: 'x1000c0s1b0n0', nid: -1 }, 'nid'],
    [{ xname: 'x1000c0s1b0n0', nid: 1.5 }, 'nid'],
    [{ xname: 'x1000c0s1b0n0', arch: 'MIPS' }, 'arch'],
    [{ xname: 'x1000c0s1b0n0', state: 'ASLEEP' }, 'state'],
    [{ xname: 'x1000c0s1b0n0', enabled: 'yes' }, 'enabled'],
    [{ xname: 'x1000c0s1b0n0', interfaces: [{ mac: '02:00:00:00:00:01', network: 'has space' }] }, 'interfaces[0].network'],
    [{ xname: 'x1000c0s1b0n0', interfaces: [{ mac: '02:00:00:00:00:01' }, { mac: '02-00-00-00-00-01' }] }, 'interfaces[1].mac'],
    [{ xname: 'x1000c0s1b0n0', interfaces: [{ mac: '02:00:00:00:00:01', ipAddresses: ['10.0.0.01'] }] }, 'interfaces[0].ipAddresses[0]'],
    [{ xname: 'x1000c0s1z0' }, 'xname'],
  ])('refuses %j naming %s', (input, field) => {
    expect(err(() => readComponentInput(input, ''))).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('the same IP may appear in two networks of one component, not twice in one network', () => {
    expect(normaliseInterfaces([{ mac: '02:00:00:00:00:01', ipAddresses: ['10.0.0.1'] }, { mac: '02:00:00:00:00:02', network: 'hsn', ipAddresses: ['10.0.0.1'] }], 'i')).toHaveLength(2);
    expect(err(() => normaliseInterfaces([{ mac: '02:00:00:00:00:01', ipAddresses: ['10.0.0.1'] }, { mac: '02:00:00:00:00:02', ipAddresses: ['10.0.0.1'] }], 'i'))).toMatchObject({ field: 'i[1].ipAddresses' });
  });

  it('new components get HSM defaults; nodes get COMPUTE/X86, other types no role', () => {
    const node = applyChanges(undefined, 'x1c0s0b0n0', 'Node', 'local', {}, 't');
    expect(node).toMatchObject({ state: 'UNKNOWN', flag: 'OK', enabled: true, role: 'COMPUTE', arch: 'X86', version: 1 });
    const bmc = applyChanges(undefined, 'x1c0s0b0', 'NodeBMC', 'local', {}, 't');
    expect(bmc.role).toBeUndefined();
    const patched = applyChanges(node, node.xname, node.type, node.site, { role: null, nid: 7 }, 't2');
    expect(patched).toMatchObject({ nid: 7, version: 2, updatedAt: 't2' });
    expect('role' in patched).toBe(false);
  });

  it('filters are checked', () => {
    expect(readFilter({ type: 'NodeBMC', role: 'SERVICE', enabled: false })).toEqual({ type: 'NodeBMC', role: 'SERVICE', enabled: false });
    expect(err(() => readFilter({ state: 'SLEEPY' }))).toMatchObject({ field: 'filter.state' });
    expect(err(() => readFilter({ group: 'a b' }))).toMatchObject({ field: 'filter.group' });
  });

  it('hardware inventory is checked and totalled', () => {
    const hw = readHardware({ memory: [{ capacityMiB: 1024 }, { capacityMiB: 2048 }], nics: [{ macAddresses: ['AA-BB-CC-DD-EE-FF'] }] });
    expect(hw.totalMemoryMiB).toBe(3072);
    expect(hw.nics[0]!.macAddresses).toEqual(['aa:bb:cc:dd:ee:ff']);
    expect(err(() => readHardware({ firmware: [{ name: 'BMC' }] }))).toMatchObject({ field: 'inventory.firmware[0]' });
  });

  it('Redfish addresses are host[:port] without scheme or path', () => {
    for (const ok of ['10.0.0.1', '10.0.0.1:443', 'bmc-1.example.net', '[fe80::1]:8443']) expect(address(ok)).toBe(ok);
    for (const bad of ['https://10.0.0.1', '10.0.0.1/redfish', 'host:0', 'host:70000', '']) expect(err(() => address(bad))).toMatchObject({ field: 'address' });
  });
});
