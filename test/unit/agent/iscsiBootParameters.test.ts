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
    const p = extra('x1000c0s0b0n0', boot('ISCSI'))!;
    expect(p).toContain('rd.iscsi.initiator=');
    expect(p.match(/netroot=iscsi:/g)).toHaveLength(2);
    expect(p).toContain('rd.multipath=default');
    expect(extra('x1000c0s0b0n0', boot('HTTP'))).toBeUndefined();
  });

  it('adds nothing with iSCSI off, without portals, or before the site domain is known', () => {
    expect(iscsiBootParameters(resolveConfig({}), 'a', () => 'd.org')).toBeUndefined();
    expect(iscsiBootParameters(resolveConfig({ iscsi: 'tgt' }), 'a', () => 'd.org')).toBeUndefined();
    const extra = iscsiBootParameters(resolveConfig({ iscsi: 'lio', iscsiPortal: '10.0.0.2:3260' }), 'a', () => null)!;
    expect(extra('x1000c0s0b0n0', boot('ISCSI'))).toBeUndefined();
  });
});
