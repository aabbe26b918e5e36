import { candidateValues, normaliseSelector, bindingValues, configurationId } from '../../../functions/boot/selector.js';
import { pickBinding, type Binding } from '../../../functions/boot/resolve.js';
import type { NodeFactsRecord } from '../../../functions/boot/nodeFacts.js';
import { mergeCloudInit, deepMerge } from '../../../bootscript/cloudInit.js';

const facts: NodeFactsRecord = { xname: 'x1c0s0b0n0', site: 'local', macs: ['aa:00:00:00:00:01', 'aa:00:00:00:00:02'], nid: 5, groups: ['b', 'a'], role: 'COMPUTE', subRole: 'w', arch: null };
const b = (value: string, priority = 0): Binding => ({ value, configId: value, site: 'local', imageId: null, kernel: 'k', initrd: null, rootfs: null, kernelParameters: '', rootfsProvider: null, priority });
const found = (...bs: Binding[]) => new Map(bs.map((x) => [x.value, x]));

describe('resolution', () => {
  it('lists candidates most specific first, booting MAC first, arch-less nodes as X86', () => {
    expect(candidateValues(facts, 'aa:00:00:00:00:02')).toEqual([
      'XNAME#x1c0s0b0n0',
      'MAC#aa:00:00:00:00:02',
      'MAC#aa:00:00:00:00:01',
      'NID#5',
      'GROUP#b',
      'GROUP#a',
      'ROLE#COMPUTE#w',
      'ROLE#COMPUTE',
      'DEFAULT#X86',
    ]);
  });
  it('xname beats everything; MAC of the booting NIC beats the other MAC', () => {
    const all = found(b('XNAME#x1c0s0b0n0'), b('MAC#aa:00:00:00:00:01'), b('MAC#aa:00:00:00:00:02'), b('DEFAULT#X86'));
    expect(pickBinding(candidateValues(facts), all)!.matchedSelector).toBe('xname:x1c0s0b0n0');
    all.delete('XNAME#x1c0s0b0n0');
    expect(pickBinding(candidateValues(facts, 'aa:00:00:00:00:02'), all)!.matchedSelector).toBe('mac:aa:00:00:00:00:02');
    expect(pickBinding(candidateValues(facts), all)!.matchedSelector).toBe('mac:aa:00:00:00:00:01');
  });
  it('two groups: higher priority wins, then the smallest label, whatever order the node lists them in', () => {
    expect(pickBinding(candidateValues(facts), found(b('GROUP#b'), b('GROUP#a'), b('ROLE#COMPUTE')))!.matchedSelector).toBe('group:a');
    expect(pickBinding(candidateValues(facts), found(b('GROUP#b', 1), b('GROUP#a')))!.matchedSelector).toBe('group:b');
    expect(pickBinding(candidateValues(facts), found(b('GROUP#b', 1), b('GROUP#a')))!.candidates).toEqual(['group:b', 'group:a']);
  });
  it('role with subRole beats role alone; nothing matching gives null', () => {
    expect(pickBinding(candidateValues(facts), found(b('ROLE#COMPUTE'), b('ROLE#COMPUTE#w')))!.matchedSelector).toBe('role:COMPUTE/w');
    expect(pickBinding(candidateValues(facts), found(b('DEFAULT#ARM')))).toBeNull();
  });
});

describe('selectors', () => {
  it('derive one id per site + selector, independent of input order', () => {
    const s1 = normaliseSelector({ xnames: ['x1000c0s0b0n1', 'X1000C0S0B0N0'] });
    const s2 = normaliseSelector({ xnames: ['x1000c0s0b0n0', 'x1000c0s0b0n1', 'x1000c0s0b0n0'] });
    expect(bindingValues(s1)).toEqual(['XNAME#x1000c0s0b0n0', 'XNAME#x1000c0s0b0n1']);
    expect(configurationId('local', s1)).toBe(configurationId('local', s2));
    expect(configurationId('local', s1)).not.toBe(configurationId('lab', s1));
    expect(bindingValues(normaliseSelector({ roles: ['COMPUTE'], subRole: 'w' }))).toEqual(['ROLE#COMPUTE#w']);
  });
  it.each([
    [{}, /names nothing/],
    [{ default: true }, /default needs an arch/],
    [{ default: true, arch: 'X86', xnames: ['x1000c0s0b0n0'] }, /cannot be combined/],
    [{ xnames: ['x1000c0s0b0n0'], arch: 'X86' }, /arch applies only to default and unknown/],
    [{ xnames: ['x1000c0s0b0'] }, 'input.selector.xnames: "x1000c0s0b0" is a NodeBMC xname, not a Node: only nodes'],
    [{ xnames: ['x1000c0'] }, 'input.selector.xnames: "x1000c0" is a Chassis xname, not a Node'],
    [{ xnames: ['x1000c0s0b0n0i1'] }, 'input.selector.xnames: "x1000c0s0b0n0i1" is a NodeNic xname, not a Node'],
    [{ xnames: ['node7'] }, 'input.selector.xnames: "node7" is not an xname'],
    [{ subRole: 'w' }, /subRole: applies only together with roles/],
    [{ roles: ['PILOT'] }, /"PILOT" is not one of/],
    [{ groups: ['a#b'] }, /is not a group label/],
  ])('refuses %j', (sel, msg) => {
    expect(() => normaliseSelector(sel)).toThrow(msg);
  });
});

describe('cloud-init merge', () => {
  it('deep-merges objects, replaces arrays and scalars', () => {
    expect(deepMerge({ a: { x: 1, y: [1] }, b: 1 }, { a: { y: [2], z: 3 }, b: { c: 1 } })).toEqual({ a: { x: 1, y: [2], z: 3 }, b: { c: 1 } });
  });
  it('applies groups largest label first so the smallest wins, then the node; user-data whole', () => {
    const m = mergeCloudInit(
      [
        { group: 'a', scope: 'group:a', metaData: { k: 'a' }, userData: 'A' },
        { group: 'z', scope: 'group:z', metaData: { k: 'z', only: 'z' }, userData: 'Z', vendorData: { v: 1 } },
      ],
      { scope: 'node:n', metaData: { n: 1 } },
    );
    expect(m).toEqual({ metaData: { k: 'a', only: 'z', n: 1 }, userData: 'A', vendorData: { v: 1 }, sources: ['group:z', 'group:a', 'node:n'] });
    expect(mergeCloudInit([], { scope: 'node:n', userData: 'N' }).userData).toBe('N');
  });
});
