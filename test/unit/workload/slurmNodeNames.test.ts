import { createNodeNamer, formatNodeName, nidFromNodeName, parseNodeMap, parseNodeNameFormat } from '../../../schema/slurmNodeNames.js';

describe('Slurm node names', () => {
  it('formats and reads NIDs back', () => {
    const f = parseNodeNameFormat('nid%06d');
    expect(formatNodeName(f, 7)).toBe('nid000007');
    expect(nidFromNodeName(f, 'nid000007')).toBe(7);
    expect(nidFromNodeName(f, 'nid1234567')).toBe(1234567);
    expect(nidFromNodeName(f, 'nid07')).toBeNull();
    expect(nidFromNodeName(f, 'cn000007')).toBeNull();
    const g = parseNodeNameFormat('cn%d-ib');
    expect(formatNodeName(g, 12)).toBe('cn12-ib');
    expect(nidFromNodeName(g, 'cn12-ib')).toBe(12);
    expect(() => parseNodeNameFormat('nid%s')).toThrow(/nodeNameFormat: "nid%s" needs exactly one %d/);
  });

  it('prefers the map, falls back to the format', () => {
    const namer = createNodeNamer('nid%06d', parseNodeMap('{"login1":"x3000c0s1b0n0"}', 'map.json'));
    expect(namer.slurmName({ xname: 'x3000c0s1b0n0', nid: 900 })).toBe('login1');
    expect(namer.slurmName({ xname: 'x1000c0s0b0n1', nid: 2 })).toBe('nid000002');
    expect(namer.slurmName({ xname: 'x1000c0s0b0n2', nid: null })).toBeNull();
    const byNid = (nid: number) => (nid === 2 ? 'x1000c0s0b0n1' : null);
    expect(namer.xname('login1', byNid)).toBe('x3000c0s1b0n0');
    expect(namer.xname('nid000002', byNid)).toBe('x1000c0s0b0n1');
    expect(namer.xname('nid000003', byNid)).toBeNull();
    expect(() => parseNodeMap('[1]', 'map.json')).toThrow(/^map\.json: expected a JSON object/);
    expect(() => parseNodeMap('{"a":3}', 'map.json')).toThrow(/^map\.json\.a: 3 is not an xname/);
  });
});
