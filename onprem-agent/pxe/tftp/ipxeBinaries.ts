/**
 * Debian's `ipxe` package puts its binaries in /usr/lib/ipxe, but ipxe.efi there is a
 * symlink into /boot. Serving that directory as the TFTP root therefore needs the link
 * targets' directories trusted explicitly, which this works out from the directory itself.
 */
import { readdir, realpath } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';

export const DEBIAN_IPXE_DIR = '/usr/lib/ipxe';

/** Directories outside `root` that its direct entries resolve into. */
export async function symlinkTargetDirs(root = DEBIAN_IPXE_DIR): Promise<string[]> {
  const realRoot = await realpath(root);
  const dirs = new Set<string>();
  for (const name of await readdir(root)) {
    const target = await realpath(join(root, name)).catch(() => undefined);
    if (target && !target.startsWith(realRoot + sep)) dirs.add(dirname(target));
  }
  return [...dirs];
}
