import { BOOT_TOKEN_PARAM, bootTokenFor, bootTokenFromCmdline, isBootToken, withoutBootToken } from '../../../bootscript/bootToken.js';
import type { BootPayload } from '../../../schema/bootPayload.js';

const boot: BootPayload = {
  imageId: 'img-a',
  kernel: 'a'.repeat(64),
  initrd: 'b'.repeat(64),
  rootfs: null,
  kernelParameters: 'console=ttyS0 quiet',
  rootfsProvider: 'HTTP',
};

describe('bootTokenFor', () => {
  it('is 20 lower-case hex characters and stable for the same node and payload', () => {
    const t = bootTokenFor('x1000c0s0b0n0', boot);
    expect(t).toMatch(/^[0-9a-f]{20}$/);
    expect(bootTokenFor('x1000c0s0b0n0', { ...boot })).toBe(t);
    expect(isBootToken(t)).toBe(true);
  });

  it('differs per node and per field of the boot payload', () => {
    const t = bootTokenFor('x1000c0s0b0n0', boot);
    const others = [
      bootTokenFor('x1000c0s0b0n1', boot),
      bootTokenFor('x1000c0s0b0n0', { ...boot, imageId: 'img-b' }),
      bootTokenFor('x1000c0s0b0n0', { ...boot, kernel: 'c'.repeat(64) }),
      bootTokenFor('x1000c0s0b0n0', { ...boot, initrd: null }),
      bootTokenFor('x1000c0s0b0n0', { ...boot, rootfs: 'd'.repeat(64) }),
      bootTokenFor('x1000c0s0b0n0', { ...boot, kernelParameters: 'console=ttyS0' }),
      bootTokenFor('x1000c0s0b0n0', { ...boot, rootfsProvider: 'ISCSI' }),
    ];
    expect(new Set([t, ...others]).size).toBe(others.length + 1);
  });

  it('ignores a token already on the kernel parameters, and extra spaces', () => {
    const t = bootTokenFor('x1000c0s0b0n0', boot);
    expect(bootTokenFor('x1000c0s0b0n0', { ...boot, kernelParameters: `console=ttyS0  ${BOOT_TOKEN_PARAM}=0123456789abcdef0123 quiet` })).toBe(t);
    expect(withoutBootToken(`a ${BOOT_TOKEN_PARAM}=x b`)).toBe('a b');
  });
});

describe('bootTokenFromCmdline', () => {
  it('reads the token from a /proc/cmdline-like line', () => {
    expect(bootTokenFromCmdline(`initrd=initrd BOOTIF=01-aa ${BOOT_TOKEN_PARAM}=0123456789abcdef0123 quiet\n`)).toBe('0123456789abcdef0123');
  });
  it('is null when absent or malformed', () => {
    expect(bootTokenFromCmdline('quiet')).toBeNull();
    expect(bootTokenFromCmdline(`${BOOT_TOKEN_PARAM}=nothex`)).toBeNull();
  });
});
