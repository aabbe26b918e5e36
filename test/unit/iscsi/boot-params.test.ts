import { iscsiKernelParameters, iscsiPathsFor, rootDevicePath, srvZoneSnippet } from '../../../onprem-agent/iscsi/boot-params.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';

const SHA = '5bc63c2c843ab342e5162cafa67769c39b6d78810b69569b00676725d82a6269';
const INIT = initiatorIqnFor('x3000c0s1b0n0');

describe('dracut kernel parameters', () => {
  it('gives one netroot per agent portal, multipath, and a live squashfs root with a RAM overlay', () => {
    const paths = iscsiPathsFor('site1.example.org', [{ agentName: 'agent-a', portals: ['10.1.0.5:3260'] }, { agentName: 'agent-b', portals: ['10.1.0.6:3260'] }], SHA);
    expect(iscsiKernelParameters({ initiatorIqn: INIT, paths, rootfsSha256: SHA })).toEqual([
      'rd.neednet=1',
      'ip=dhcp',
      'rd.iscsi.initiator=iqn.2026-11.io.skyboot:node:x3000c0s1b0n0',
      'netroot=iscsi:10.1.0.5::3260:1:iqn.2026-11.org.example.site1:agent-a:img-5bc63c2c843ab342',
      'netroot=iscsi:10.1.0.6::3260:1:iqn.2026-11.org.example.site1:agent-b:img-5bc63c2c843ab342',
      'rd.multipath=default',
      'rd.iscsi.param=node.session.timeo.replacement_timeout=5',
      'root=live:/dev/disk/by-id/dm-uuid-mpath-36bc63c2c843ab342e5162cafa67769c3',
      'rd.live.image',
      'rd.live.overlay.overlayfs=1',
      'ro',
    ]);
  });

  it('uses the WWN link without multipath for a single portal', () => {
    const params = iscsiKernelParameters({ initiatorIqn: INIT, paths: [{ portal: '10.1.0.5:3260', targetIqn: 't' }], rootfsSha256: SHA });
    expect(params).not.toContain('rd.multipath=default');
    expect(params).toContain(`root=live:${rootDevicePath(SHA, false)}`);
    expect(rootDevicePath(SHA, false)).toBe('/dev/disk/by-id/wwn-0x6bc63c2c843ab342e5162cafa67769c3');
  });

  it('puts one-way and mutual CHAP in netroot, and refuses credentials that would break its fields', () => {
    const one = iscsiKernelParameters({ initiatorIqn: INIT, paths: [{ portal: '10.1.0.5:3260', targetIqn: 't' }], rootfsSha256: SHA, chap: { user: 'u', secret: 'AbcdEfgh2345' } });
    expect(one).toContain('netroot=iscsi:u:AbcdEfgh2345@10.1.0.5::3260:1:t');
    const mutual = iscsiKernelParameters({ initiatorIqn: INIT, paths: [{ portal: '10.1.0.5:3260', targetIqn: 't' }], rootfsSha256: SHA, chap: { user: 'u', secret: 'AbcdEfgh2345', mutualUser: 'm', mutualSecret: 'ZyxwVuts9876' } });
    expect(mutual).toContain('netroot=iscsi:u:AbcdEfgh2345:m:ZyxwVuts9876@10.1.0.5::3260:1:t');
    expect(() => iscsiKernelParameters({ initiatorIqn: INIT, paths: [{ portal: '10.1.0.5:3260', targetIqn: 't' }], rootfsSha256: SHA, chap: { user: 'u', secret: 'a:b@c' } }))
      .toThrow(/^chap.secret:/);
    expect(() => iscsiKernelParameters({ initiatorIqn: INIT, paths: [], rootfsSha256: SHA })).toThrow(/^paths:/);
  });
});

describe('SRV zone snippet', () => {
  it('lists every portal at equal priority and weight, with the A records the SRV targets need', () => {
    expect(srvZoneSnippet('Site1.Example.org', [
      { agentName: 'agent-a', portal: '10.1.0.5:3260' },
      { agentName: 'agent-b', portal: '10.1.0.6:3260' },
      { agentName: 'agent-b', portal: '10.2.0.6:3261' },
    ], 120)).toBe([
      '; Skyboot iSCSI portals for site1.example.org',
      '_skyboot-iscsi._tcp.site1.example.org. 120 IN SRV 10 10 3260 iscsi-agent-a.site1.example.org.',
      '_skyboot-iscsi._tcp.site1.example.org. 120 IN SRV 10 10 3260 iscsi-agent-b-1.site1.example.org.',
      '_skyboot-iscsi._tcp.site1.example.org. 120 IN SRV 10 10 3261 iscsi-agent-b-2.site1.example.org.',
      'iscsi-agent-a.site1.example.org. 120 IN A 10.1.0.5',
      'iscsi-agent-b-1.site1.example.org. 120 IN A 10.1.0.6',
      'iscsi-agent-b-2.site1.example.org. 120 IN A 10.2.0.6',
      '',
    ].join('\n'));
  });
});
