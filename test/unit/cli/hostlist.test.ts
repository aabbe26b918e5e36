import { compressHostlist, expandHostlist, HostlistError, MAX_HOSTS } from '../../../schema/hostlist.js';

describe('expandHostlist (Slurm rules)', () => {
  it.each<[string, string[]]>([
    ['x1000c0s0b0n0', ['x1000c0s0b0n0']],
    ['nid[1-3]', ['nid1', 'nid2', 'nid3']],
    ['nid[0001-0003]', ['nid0001', 'nid0002', 'nid0003']],
    ['nid[098-101]', ['nid098', 'nid099', 'nid100', 'nid101']],
    ['nid[8-11]', ['nid8', 'nid9', 'nid10', 'nid11']],
    ['a[1,3-4,7]', ['a1', 'a3', 'a4', 'a7']],
    ['x1000c0s[0-1]b0n[0-1]', ['x1000c0s0b0n0', 'x1000c0s0b0n1', 'x1000c0s1b0n0', 'x1000c0s1b0n1']],
    ['a[1-2],b3,c[5]', ['a1', 'a2', 'b3', 'c5']],
    ['n[1-2]x,n1x', ['n1x', 'n2x']],
    [' a1 , a2 ', ['a1', 'a2']],
    ['', []],
  ])('%s', (list, hosts) => {
    expect(expandHostlist(list)).toEqual(hosts);
  });

  it('x1000c0s[0-7]b0n[0-1] is 16 nodes and nid[0001-0128] 128', () => {
    expect(expandHostlist('x1000c0s[0-7]b0n[0-1]')).toHaveLength(16);
    const nids = expandHostlist('nid[0001-0128]');
    expect([nids.length, nids[0], nids[127]]).toEqual([128, 'nid0001', 'nid0128']);
  });

  it.each<[string, RegExp]>([
    ['a[1[2]]', /nested "\[" at position 3/],
    ['a[1-2', /"\[" is never closed/],
    ['a1-2]', /"\]" without "\[" at position 4/],
    ['a[]', /empty brackets/],
    ['a[5-2]', /range 5-2 runs backwards/],
    ['a[x]', /"x" in brackets is not a number or lo-hi range/],
  ])('%s is refused with the reason', (list, reason) => {
    expect(() => expandHostlist(list)).toThrow(HostlistError);
    expect(() => expandHostlist(list)).toThrow(reason);
  });

  it(`refuses more than ${MAX_HOSTS} hosts before allocating them`, () => {
    expect(() => expandHostlist('n[1-1000][1-1001]')).toThrow(/more than 1000000 hosts/);
  });
});

describe('compressHostlist', () => {
  it.each<[string[], string]>([
    [['nid1', 'nid2', 'nid3', 'nid5'], 'nid[1-3,5]'],
    [['nid0001', 'nid0002', 'nid0128'], 'nid[0001-0002,0128]'],
    [['nid0999', 'nid1000'], 'nid[0999-1000]'],
    [['nid9', 'nid10'], 'nid[9-10]'],
    [['x1000c0s0b0n0', 'x1000c0s0b0n1', 'x1000c0s1b0n0', 'x1000c0s1b0n1'], 'x1000c0s[0-1]b0n[0-1]'],
    [['x1000c0s0b0n0', 'x1000c0s1b0n0', 'x1000c0s1b0n1'], 'x1000c0s0b0n0,x1000c0s1b0n[0-1]'], // the last number merges first, as Slurm's
    [['login', 'nid1'], 'login,nid1'],
    [['a1', 'a1'], 'a1'],
    [[], ''],
  ])('%j → %s', (hosts, list) => {
    expect(compressHostlist(hosts)).toBe(list);
  });

  it('round-trips: expanding the compressed form gives the same set', () => {
    const hosts = expandHostlist('x1000c0s[0-7]b0n[0-1],x1001c[0-1]s[3,5]b0n0,nid[0001-0128]');
    expect(new Set(expandHostlist(compressHostlist(hosts)))).toEqual(new Set(hosts));
    expect(compressHostlist(hosts)).toBe('x1000c0s[0-7]b0n[0-1],x1001c[0-1]s[3,5]b0n0,nid[0001-0128]');
  });
});
