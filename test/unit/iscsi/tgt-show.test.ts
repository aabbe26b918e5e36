import { parseTgtAccounts, parseTgtShow } from '../../../onprem-agent/iscsi/tgt-show.js';

// Captured from tgtadm 1.0.85 (`--mode target --op show`) with one session logged in.
const SHOW = `Target 1: iqn.2026-11.io.skyboot:agent1
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
        I_T nexus: 15
            Initiator: iqn.2026-11.io.skyboot:node:x1000c0s0b0n0 alias: none
            Connection: 0
                IP Address: 127.0.0.1
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     00010000
            SCSI SN: beaf10
            Size: 0 MB, Block size: 1
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: No
            SWP: No
            Thin-provisioning: No
            Backing store type: null
            Backing store path: None
            Backing store flags: 
        LUN: 1
            Type: disk
            SCSI ID: 0123456789abcdef0123456789abcdef
            SCSI SN: SN123
            Size: 3 MB, Block size: 512
            Online: Yes
            Removable media: No
            Prevent removal: No
            Readonly: Yes
            SWP: No
            Thin-provisioning: No
            Backing store type: rdwr
            Backing store path: /tmp/tgtplay/img.sqfs
            Backing store flags: 
    Account information:
        nodeuser
        agentuser (outgoing)
    ACL information:
        iqn.2026-11.io.skyboot:node:x1000c0s0b0n0
Target 123456789: iqn.2026-11.io.skyboot:agent1:big
    System information:
        Driver: iscsi
        State: ready
    I_T nexus information:
    LUN information:
        LUN: 0
            Type: controller
            SCSI ID: IET     75bcd150000
            SCSI SN: beaf1234567890
            Size: 0 MB, Block size: 1
            Readonly: No
            Backing store type: null
            Backing store path: None
    Account information:
    ACL information:
`;

describe('parseTgtShow', () => {
  it('reads targets, sessions, LUNs, accounts and ACLs from tgtadm text', () => {
    const [a, b] = parseTgtShow(SHOW);
    expect(a).toEqual({
      tid: 1,
      name: 'iqn.2026-11.io.skyboot:agent1',
      nexusInitiators: ['iqn.2026-11.io.skyboot:node:x1000c0s0b0n0'],
      luns: [
        { lun: 0, type: 'controller', scsiId: 'IET     00010000', scsiSn: 'beaf10', sizeMb: 0, readonly: false, backingStoreType: 'null', backingStorePath: 'None' },
        { lun: 1, type: 'disk', scsiId: '0123456789abcdef0123456789abcdef', scsiSn: 'SN123', sizeMb: 3, readonly: true, backingStoreType: 'rdwr', backingStorePath: '/tmp/tgtplay/img.sqfs' },
      ],
      accounts: ['nodeuser'],
      outgoingAccounts: ['agentuser'],
      acl: ['iqn.2026-11.io.skyboot:node:x1000c0s0b0n0'],
    });
    expect(b).toMatchObject({ tid: 123456789, name: 'iqn.2026-11.io.skyboot:agent1:big', nexusInitiators: [], accounts: [], acl: [] });
    expect(parseTgtShow('')).toEqual([]);
  });

  it('reads the account list', () => {
    expect(parseTgtAccounts('Account list:\n    agentuser\n    nodeuser\n')).toEqual(['agentuser', 'nodeuser']);
    expect(parseTgtAccounts('Account list:\n')).toEqual([]);
  });
});
