/**
 * The boot token: a short digest of what a node is meant to boot, carried on its kernel command
 * line (`skyboot.token=…`) and echoed back by the booted image's heartbeat. A heartbeat with the
 * token of the node's desired state proves the node came up on that state, not on a stale one.
 *
 * Pure, so the cloud (which hands tokens to the agent and validates reports) and the agent (which
 * renders scripts and watches heartbeats) compute the same value from the same payload.
 */
import { createHash } from 'node:crypto';
import type { BootPayload } from '../schema/bootPayload.js';
import { canonicalJson } from '../schema/siteSnapshot.js';

/** Kernel parameter that carries the token, e.g. `skyboot.token=3f2a…`. */
export const BOOT_TOKEN_PARAM = 'skyboot.token';

/** Hex characters kept from the digest: 80 bits, plenty to tell boot states apart. */
export const BOOT_TOKEN_LENGTH = 20;

const TOKEN = /^[0-9a-f]{20}$/;

/** The kernel parameters with any `skyboot.token=` removed, spaces collapsed. */
export function withoutBootToken(kernelParameters: string): string {
  return kernelParameters
    .split(' ')
    .filter((t) => t.length > 0 && t !== BOOT_TOKEN_PARAM && !t.startsWith(`${BOOT_TOKEN_PARAM}=`))
    .join(' ');
}

/**
 * Per node, per desired boot state: sha256 over the xname and the canonical boot payload
 * (image id, kernel/initrd/rootfs sha256, kernel parameters without the token, rootfs provider),
 * first 20 hex chars. Same function in cloud and agent.
 */
export function bootTokenFor(xname: string, boot: BootPayload): string {
  const canonical = canonicalJson({
    xname,
    imageId: boot.imageId ?? null,
    kernel: boot.kernel,
    initrd: boot.initrd ?? null,
    rootfs: boot.rootfs ?? null,
    kernelParameters: withoutBootToken(boot.kernelParameters),
    rootfsProvider: boot.rootfsProvider ?? null,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, BOOT_TOKEN_LENGTH);
}

/** True for a string shaped like a token (the heartbeat route refuses anything else). */
export function isBootToken(value: unknown): value is string {
  return typeof value === 'string' && TOKEN.test(value);
}

/** The token on a kernel command line (e.g. /proc/cmdline, a script's kernel line), or null. */
export function bootTokenFromCmdline(cmdline: string): string | null {
  for (const t of cmdline.split(/\s+/)) {
    if (t.startsWith(`${BOOT_TOKEN_PARAM}=`)) {
      const v = t.slice(BOOT_TOKEN_PARAM.length + 1);
      return isBootToken(v) ? v : null;
    }
  }
  return null;
}
