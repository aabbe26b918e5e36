import { buildIscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';

const A = 'a'.repeat(64);

const base = {
  agentName: 'Agent-A',
  siteDomain: 'site1.example.org',
  cachedPath: (sha: string) => (sha === A ? `/cache/${sha}` : undefined),
};

describe('buildIscsiDesiredState', () => {
  it('exports READY, cached images that nodes boot over iSCSI, with those nodes as initiators', () => {
    const d = buildIscsiDesiredState({
      ...base,
      images: [
        { imageId: 'img-1', imageName: 'compute', version: '1', status: 'READY', rootfsSha256: A, rootfsSize: 8192 },
        { imageId: 'img-2', imageName: 'compute', version: '2', status: 'READY', rootfsSha256: 'c'.repeat(64), rootfsSize: 8192 },
        { imageId: 'img-3', imageName: 'gpu', version: '1', status: 'UPLOADING', rootfsSha256: 'd'.repeat(64), rootfsSize: 8192 },
      ],
      nodes: [
        { xname: 'x1000c0s0b0n1', imageId: 'img-1', rootfsProvider: 'ISCSI' },
        { xname: 'x1000c0s0b0n0', imageId: 'img-1', rootfsProvider: 'ISCSI' },
        { xname: 'x1000c0s0b0n2', imageId: 'img-1', rootfsProvider: 'HTTP' },
        { xname: 'x1000c0s0b0n3', imageId: 'img-2', rootfsProvider: 'ISCSI' },
        { xname: 'x1000c0s0b0n4', imageId: 'img-3', rootfsProvider: 'ISCSI' },
        { xname: 'x1000c0s0b0n5', imageId: 'img-9', rootfsProvider: 'ISCSI' },
      ],
    });
    expect(d.agentName).toBe('agent-a');
    expect(d.targetIqn).toBe('iqn.2026-11.org.example.site1:agent-a');
    expect(d.exports).toEqual([{
      imageId: 'img-1', imageName: 'compute', version: '1', rootfsSha256: A, rootfsPath: `/cache/${A}`, size: 8192,
      targetIqn: `iqn.2026-11.org.example.site1:agent-a:img-${A.slice(0, 16)}`, lun: 1,
      initiators: [initiatorIqnFor('x1000c0s0b0n0'), initiatorIqnFor('x1000c0s0b0n1')], chapUsers: [],
    }]);
    expect(d.skipped).toEqual([
      { imageId: 'img-2', reason: `rootfs sha256:${'c'.repeat(64)} is not in the cache yet`, rootfsSha256: 'c'.repeat(64) },
      { imageId: 'img-3', reason: 'image status is UPLOADING, not READY', rootfsSha256: expect.any(String) },
      { imageId: 'img-9', reason: 'image is not in the snapshot' },
    ]);
  });

  it('exports two image records with one rootfs digest as one LUN', () => {
    const d = buildIscsiDesiredState({
      ...base,
      images: ['img-1', 'img-1-copy'].map((imageId) => ({ imageId, imageName: imageId, version: '1', status: 'READY', rootfsSha256: A, rootfsSize: 4096 })),
      nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'img-1', rootfsProvider: 'ISCSI' }, { xname: 'x1000c0s0b0n1', imageId: 'img-1-copy', rootfsProvider: 'ISCSI' }],
    });
    expect(d.exports).toHaveLength(1);
    expect(d.exports[0]!.initiators).toEqual([initiatorIqnFor('x1000c0s0b0n0'), initiatorIqnFor('x1000c0s0b0n1')]);
  });

  it('rejects a bad digest or size, naming the image', () => {
    expect(() => buildIscsiDesiredState({ ...base, images: [{ imageId: 'i', imageName: 'i', version: '1', status: 'READY', rootfsSha256: 'xyz', rootfsSize: 1 }], nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'i', rootfsProvider: 'ISCSI' }] }))
      .toThrow(/^images\[i\]\.rootfsSha256:/);
    expect(() => buildIscsiDesiredState({ ...base, images: [{ imageId: 'i', imageName: 'i', version: '1', status: 'READY', rootfsSha256: A, rootfsSize: 0 }], nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'i', rootfsProvider: 'ISCSI' }] }))
      .toThrow(/^images\[i\]\.rootfsSize:/);
  });
});
