import { planParts, MAX_PARTS, MIN_PART_SIZE, MAX_PART_SIZE } from '../../../functions/images/partPlan.js';
import { imageStatusOf } from '../../../functions/images/model.js';
import { checkArtifacts, fingerprint } from '../../../functions/images/validate.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

describe('part plan', () => {
  it.each([
    [1, 8 * MiB, 1],
    [17 * MiB, 8 * MiB, 3],
    [1 * GiB, 8 * MiB, 128],
    [10 * GiB, 11 * MiB, 931],
    [100 * GiB, 64 * MiB, 1600],
    [625 * GiB, 64 * MiB, 10_000],
  ])('%d bytes → parts of %d bytes, %d parts', (size, partSize, count) => {
    const plan = planParts(size);
    expect(plan).toEqual({ partSize, partCount: count });
    expect(plan.partSize).toBeGreaterThanOrEqual(MIN_PART_SIZE);
    expect(plan.partSize).toBeLessThanOrEqual(MAX_PART_SIZE);
    expect(plan.partCount).toBeLessThanOrEqual(MAX_PARTS);
  });
  it('refuses sizes that need more than 10,000 parts of 64 MiB, and non-positive sizes', () => {
    expect(() => planParts(625 * GiB + 1)).toThrow(/more than 10000 parts of 64 MiB/);
    expect(() => planParts(0)).toThrow(/positive whole number/);
    expect(() => planParts(1.5)).toThrow(/positive whole number/);
  });
});

describe('image status from artifacts', () => {
  it('is FAILED if any failed (naming it), else the least advanced, READY only when all are', () => {
    expect(imageStatusOf([{ type: 'KERNEL', status: 'READY' }, { type: 'INITRD', status: 'FAILED', reason: 'size mismatch' }, { type: 'ROOTFS_SQUASHFS', status: 'UPLOADING' }])).toEqual({
      status: 'FAILED',
      reason: 'INITRD: size mismatch',
    });
    expect(imageStatusOf([{ type: 'KERNEL', status: 'READY' }, { type: 'INITRD', status: 'VERIFYING' }, { type: 'ROOTFS_SQUASHFS', status: 'UPLOADING' }]).status).toBe('UPLOADING');
    expect(imageStatusOf([{ type: 'KERNEL', status: 'READY' }, { type: 'INITRD', status: 'VERIFYING' }]).status).toBe('VERIFYING');
    expect(imageStatusOf([{ type: 'KERNEL', status: 'READY' }]).status).toBe('READY');
  });
});

describe('declared artifacts', () => {
  const a = (type: string, sha: string, size = 10) => ({ type, sha256: sha, size }) as never;
  it('orders by type, lower-cases digests, and fingerprints identical pushes identically', () => {
    const list = checkArtifacts([a('ROOTFS_SQUASHFS', 'C'.repeat(64)), a('KERNEL', 'a'.repeat(64))]);
    expect(list.map((x) => x.type)).toEqual(['KERNEL', 'ROOTFS_SQUASHFS']);
    expect(list[1]!.sha256).toBe('c'.repeat(64));
    expect(fingerprint('n', '1', 'X86', list)).toBe(fingerprint('n', '1', 'X86', checkArtifacts([a('KERNEL', 'a'.repeat(64)), a('ROOTFS_SQUASHFS', 'c'.repeat(64))])));
    expect(fingerprint('n', '1', 'X86', list)).not.toBe(fingerprint('n', '2', 'X86', list));
  });
  it('refuses duplicates and a missing kernel', () => {
    expect(() => checkArtifacts([a('KERNEL', 'a'.repeat(64)), a('KERNEL', 'b'.repeat(64))])).toThrow('artifacts[1].type: KERNEL is declared twice');
    expect(() => checkArtifacts([a('KERNEL', 'a'.repeat(64)), a('INITRD', 'a'.repeat(64))])).toThrow(/declared for two artifact types/);
    expect(() => checkArtifacts([a('INITRD', 'a'.repeat(64))])).toThrow('artifacts: a KERNEL artifact is required');
  });
});
