import type { SiteSnapshot, SnapshotBoot } from '../../../schema/siteSnapshot.js';
import { buildIscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { desiredInputFromSnapshot } from '../../../onprem-agent/iscsi/snapshot-input.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

const boot = (imageId: string, rootfs: string, rootfsProvider: SnapshotBoot['rootfsProvider']): SnapshotBoot =>
  ({ configId: 'c', matchedSelector: 'default', imageId, kernel: 'k'.repeat(64), initrd: null, rootfs, kernelParameters: '', rootfsProvider });

function snapshot(): SiteSnapshot {
  const node = (xname: string, b: SnapshotBoot | null) => ({ xname, nid: null, role: null, subRole: null, arch: null, groups: [], interfaces: [], boot: b, cloudInit: null });
  return {
    site: 'site1', siteDomain: 'site1.example.org', revision: 1, unchanged: false, contentHash: 'h', generatedAt: '2026-11-21T00:00:00Z',
    nodes: [
      node('x1000c0s0b0n0', boot('img-1', A, 'ISCSI')),
      node('x1000c0s0b0n1', boot('img-1', B, 'ISCSI')),
      node('x1000c0s0b0n2', boot('img-1', A, 'HTTP')),
      node('x1000c0s0b0n3', boot('img-2', C, 'ISCSI')),
      node('x1000c0s0b0n4', null),
    ],
    discovery: [],
    artifacts: [
      { sha256: A, size: 4096, type: 'rootfs', status: 'READY', url: null, urlExpiresAt: null },
      { sha256: B, size: 8192, type: 'rootfs', status: 'READY', url: null, urlExpiresAt: null },
      { sha256: C, size: 4096, type: 'rootfs', status: 'VERIFYING', url: null, urlExpiresAt: null },
    ],
    images: [
      { id: 'img-1', name: 'compute', version: '1', arch: 'X86', status: 'READY' },
      { id: 'img-2', name: 'gpu', version: '1', arch: 'X86', status: 'READY' },
    ],
  };
}

describe('desiredInputFromSnapshot', () => {
  it('exports each iSCSI rootfs digest the snapshot uses, from verified cache paths only', async () => {
    const asked: string[] = [];
    const cache = { verifiedPath: async (sha: string) => (asked.push(sha), sha === C ? null : `/cache/${sha}`) };
    const d = buildIscsiDesiredState(await desiredInputFromSnapshot(snapshot(), { agentName: 'agent-a', cache }));
    expect(d.exports.map((e) => [e.rootfsSha256, e.size, e.initiators])).toEqual([
      [A, 4096, [initiatorIqnFor('x1000c0s0b0n0')]],
      [B, 8192, [initiatorIqnFor('x1000c0s0b0n1')]],
    ]);
    expect(d.skipped).toEqual([{ imageId: 'img-2', reason: 'image status is READY/VERIFYING, not READY', rootfsSha256: C }]);
    expect(asked.sort()).toEqual([A, B, C]);
  });

  it('needs the site DNS domain for target names', async () => {
    const s = { ...snapshot(), siteDomain: null };
    await expect(desiredInputFromSnapshot(s, { agentName: 'a', cache: { verifiedPath: async () => null } })).rejects.toThrow(/^siteDomain: site site1 has no DNS domain/);
  });
});
