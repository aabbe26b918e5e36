import { resolveConfig } from '../../../onprem-agent/config.js';
import { iscsiBootParameters } from '../../../onprem-agent/run/iscsiBootParameters.js';
import type { SnapshotBoot } from '../../../schema/siteSnapshot.js';

const R = 'e'.repeat(64);
const boot = (rootfsProvider: SnapshotBoot['rootfsProvider']): SnapshotBoot => ({
  configId: 'bc', matchedSelector: 'role:COMPUTE', imageId: 'img', kernel: 'a'.repeat(64), initrd: null, rootfs: R, kernelParameters: '', rootfsProvider,
});

describe('iSCSI boot parameters in the agent’s boot scripts', () => {
  it('adds dracut iSCSI arguments for ISCSI nodes, one netroot per portal of this agent', () => {
    const cfg = resolveConfig({ iscsi: 'tgt', iscsiPortal: ['10.0.0.2:3260', '10.0.1.2:3260'] });
    const extra = iscsiBootParameters(cfg, 'agent1', () => 'site.example.org')!;
    const p = extra('x1000c0s0b0n0', boot('ISCSI')) as string;
    expect(p).toContain('rd.iscsi.initiator=');
    expect(p.match(/netroot=iscsi:/g)).toHaveLength(2);
    expect(p).toContain('rd.multipath=default');
    expect(extra('x1000c0s0b0n0', boot('HTTP'))).toBeUndefined();
  });

  it('adds nothing with iSCSI off or without portals, and makes the node wait before the site domain is known', () => {
    expect(iscsiBootParameters(resolveConfig({}), 'a', () => 'd.org')).toBeUndefined();
    expect(iscsiBootParameters(resolveConfig({ iscsi: 'tgt' }), 'a', () => 'd.org')).toBeUndefined();
    const extra = iscsiBootParameters(resolveConfig({ iscsi: 'lio', iscsiPortal: '10.0.0.2:3260' }), 'a', () => null)!;
    expect(extra('x1000c0s0b0n0', boot('ISCSI'))).toEqual({ wait: expect.stringMatching(/no DNS domain/) });
  });

  it('names the root only once it is exported to the node, with that node’s own CHAP', () => {
    const cfg = resolveConfig({ iscsi: 'tgt', iscsiPortal: '10.0.0.2:3260', iscsiChap: 'one-way' });
    let ready = false;
    const extra = iscsiBootParameters(cfg, 'agent1', () => 'site.example.org', () => [], (xname) => (ready
      ? { ready: true, chap: { user: `skyboot-site.${xname}`, secret: 'AbcdEfgh2345Jkmn' } }
      : { ready: false, reason: `rootfs sha256:${R} is not in the cache yet` }))!;
    expect(extra('x1000c0s0b0n0', boot('ISCSI'))).toEqual({ wait: `rootfs sha256:${R} is not in the cache yet` });
    ready = true;
    expect(extra('x1000c0s0b0n0', boot('ISCSI'))).toContain('netroot=iscsi:skyboot-site.x1000c0s0b0n0:AbcdEfgh2345Jkmn@10.0.0.2::3260:1:');
  });
});
