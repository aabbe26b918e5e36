import { expandHostlist, HostlistError } from '../../../schema/hostlist.js';

describe('Slurm hostlists (skyboot-slurm-reboot argv[1])', () => {
  it('expands comma lists, padded ranges and products, in order, without duplicates', () => {
    expect(expandHostlist('nid000001,nid000003')).toEqual(['nid000001', 'nid000003']);
    expect(expandHostlist('nid00000[6-7]')).toEqual(['nid000006', 'nid000007']);
    expect(expandHostlist('nid[0098-0101],login1')).toEqual(['nid0098', 'nid0099', 'nid0100', 'nid0101', 'login1']);
    expect(expandHostlist('x1000c0s[0-1]b0n[0,1]')).toEqual(['x1000c0s0b0n0', 'x1000c0s0b0n1', 'x1000c0s1b0n0', 'x1000c0s1b0n1']);
    expect(expandHostlist('a[1-2],a2')).toEqual(['a1', 'a2']);
  });

  it.each(['nid[1-', 'nid[3-1]', 'nid[a]', 'nid[1[2]]', 'nid]'])('refuses %s', (bad) => {
    expect(() => expandHostlist(bad)).toThrow(HostlistError);
  });
});
