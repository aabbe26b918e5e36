/** Boot scripts from a snapshot alone: known node, node without configuration, unknown MAC. */
import { bootTokenFor } from '../../../bootscript/bootToken.js';
import { archFromIpxe, bootScriptFor } from '../../../onprem-agent/pxe/http/bootScript.js';
import { SnapshotIndex } from '../../../onprem-agent/sync/snapshotStore.js';
import type { SnapshotBoot, SnapshotNode } from '../../../schema/siteSnapshot.js';

const K = 'a'.repeat(64);
const I = 'b'.repeat(64);
const D = 'c'.repeat(64);
const boot = (p: string): SnapshotBoot => ({ configId: 'bc-1', matchedSelector: 'role:COMPUTE', imageId: null, kernel: K, initrd: I, rootfs: null, kernelParameters: p, rootfsProvider: null });
const node = (xname: string, mac: string, b: SnapshotBoot | null): SnapshotNode => ({
  xname, nid: 7, role: 'COMPUTE', subRole: null, arch: 'X86', groups: [], interfaces: [{ mac, ipAddresses: [], network: 'hsn' }], boot: b, cloudInit: null,
});
const index = new SnapshotIndex({
  revision: 3,
  contentHash: 'h',
  storedAt: '2026-01-01T00:00:00Z',
  snapshot: {
    site: 's', revision: 3, unchanged: false, contentHash: 'h', generatedAt: '2026-01-01T00:00:00Z',
    nodes: [node('x1c0s0b0n0', '02:00:00:00:00:01', boot('console=ttyS0')), node('x1c0s1b0n0', '02:00:00:00:00:02', null)],
    discovery: [{ arch: 'ARM', boot: { ...boot('discovery=1'), kernel: D, initrd: null } }],
    artifacts: [], images: [],
  },
});
const base = 'http://10.0.0.2:8080';

describe('boot script from the snapshot', () => {
  it('renders the known node with its parameters and the agent URLs', () => {
    const s = bootScriptFor(index, { mac: '02:00:00:00:00:01', agentBaseUrl: base, arch: 'X86', attempt: 1 });
    expect(s).toContain(`kernel --name kernel ${base}/artifacts/sha256/${K} initrd=initrd BOOTIF=01-02-00-00-00-00-01 xname=x1c0s0b0n0 nid=7 console=ttyS0 skyboot.token=${bootTokenFor('x1c0s0b0n0', boot('console=ttyS0'))} || goto failed1`);
  });

  it('tells a known node without a boot configuration why, and retries a bounded number of times', () => {
    const s = bootScriptFor(index, { mac: '02:00:00:00:00:02', agentBaseUrl: base, arch: 'X86', attempt: 1 });
    expect(s).toContain('belongs to x1c0s1b0n0, which has no boot configuration');
    expect(s).toContain(`chain --replace --autofree ${base}/boot/v1/bootscript?mac=02:00:00:00:00:02&attempt=2`);
    const last = bootScriptFor(index, { mac: '02:00:00:00:00:02', agentBaseUrl: base, arch: 'X86', attempt: 3 });
    expect(last).not.toContain('chain');
  });

  it('boots the discovery image configured for the unknown MAC’s arch', () => {
    const arm = bootScriptFor(index, { mac: '02:00:00:00:00:99', agentBaseUrl: base, arch: archFromIpxe('arm64'), attempt: 1 });
    expect(arm).toContain(`kernel --name kernel ${base}/artifacts/sha256/${D} BOOTIF=01-02-00-00-00-00-99 discovery=1`);
    const x86 = bootScriptFor(index, { mac: '02:00:00:00:00:99', agentBaseUrl: base, arch: archFromIpxe('x86_64'), attempt: 1 });
    expect(x86).toContain('is not in the inventory of this site');
  });

  it('says so when there is no snapshot yet', () => {
    expect(bootScriptFor(null, { mac: '02:00:00:00:00:01', agentBaseUrl: base, arch: 'X86', attempt: 1 })).toContain('no snapshot yet');
  });
});
