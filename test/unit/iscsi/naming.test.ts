import {
  exportTargetIqn, initiatorIqnFor, lioUnitSerial, lunIdentity, parsePortal, reverseDomain, targetIqnFor, xnameOfInitiator,
} from '../../../onprem-agent/iscsi/naming.js';

const SHA = 'a3b1c2d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00';

describe('iSCSI naming', () => {
  it('derives the node initiator name from the normalised xname, and back', () => {
    expect(initiatorIqnFor('X1000C0S0B0N01')).toBe('iqn.2026-11.io.skyboot:node:x1000c0s0b0n1');
    expect(xnameOfInitiator('iqn.2026-11.io.skyboot:node:x1000c0s0b0n1')).toBe('x1000c0s0b0n1');
    expect(xnameOfInitiator('iqn.1994-05.com.redhat:abc')).toBeNull();
  });

  it('rejects an initiator for something that is not an xname, naming the field', () => {
    expect(() => initiatorIqnFor('node01')).toThrow(/^xname: "node01" is not an xname/);
  });

  it('names the agent target after the reversed site domain, and image targets after the digest', () => {
    expect(reverseDomain('Site1.Example.org.')).toBe('org.example.site1');
    const agent = targetIqnFor('agent-a', 'site1.example.org');
    expect(agent).toBe('iqn.2026-11.org.example.site1:agent-a');
    expect(exportTargetIqn(agent, SHA.toUpperCase())).toBe('iqn.2026-11.org.example.site1:agent-a:img-a3b1c2d4e5f60718');
    expect(() => targetIqnFor('agent_a', 'site1.example.org')).toThrow(/^agentName:/);
    expect(() => exportTargetIqn(agent, 'abc')).toThrow(/^rootfsSha256: "abc" is not a sha256/);
  });

  it('gives one image the same SCSI identity everywhere, inside tgt limits', () => {
    const id = lunIdentity(SHA);
    expect(id).toEqual(lunIdentity(SHA));
    expect(id.scsiId).toBe(SHA.slice(0, 32));
    expect(id.scsiId.length).toBeLessThanOrEqual(36);
    expect(id.serial).toBe(SHA.slice(0, 24));
    expect(id.tid).toBe(parseInt(SHA.slice(0, 7), 16));
    // tgt puts NAA type 6 in place of the top nibble of its 128-bit designator (the digest's 'a'
    // is dropped); udev prefixes 3 for an NAA designator.
    expect(id.wwid).toBe(`36${SHA.slice(1, 32)}`);
    expect(lunIdentity('0'.repeat(64)).tid).toBe(1);
    expect(lioUnitSerial(SHA)).toBe('a3b1c2d4-e5f6-0718-293a-4b5c6d7e8f90');
  });

  it('parses portals and rejects what is not ADDR:PORT', () => {
    expect(parsePortal('10.0.0.5:3260')).toEqual({ address: '10.0.0.5', port: 3260 });
    expect(() => parsePortal('10.0.0.5')).toThrow(/^portal: "10.0.0.5" is not ADDR:PORT/);
    expect(() => parsePortal('10.0.0.5:0')).toThrow(/^portal:/);
    expect(() => parsePortal('300.0.0.5:3260')).toThrow(/^portal:/);
  });
});
