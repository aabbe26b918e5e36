/**
 * Confines a requested TFTP file name to the root. Checking the text alone misses symlinks,
 * so the final answer comes from realpath: the resolved file must lie under the root (or
 * under a directory the operator explicitly trusts as a symlink target, e.g. Debian's
 * /usr/lib/ipxe/ipxe.efi → /boot/ipxe.efi).
 */
import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';

export class TftpPathError extends Error {
  constructor(readonly kind: 'not-found' | 'access', message: string) {
    super(message);
  }
}

function under(dir: string, file: string): boolean {
  return file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** `trusted` holds realpaths of the root and any symlink-target directories. */
export async function resolveInRoot(trusted: readonly string[], requested: string): Promise<string> {
  const root = trusted[0];
  if (root === undefined) throw new TftpPathError('access', 'no TFTP root configured');
  if (requested.includes('\0')) throw new TftpPathError('access', 'file name contains NUL');
  // PXE ROMs send both `/file` and `\file` forms; both mean a name relative to the root.
  const segments = requested.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw new TftpPathError('access', 'empty file name');
  if (segments.includes('..')) throw new TftpPathError('access', `"${requested}" leaves the TFTP root`);
  let real: string;
  try {
    real = await realpath(`${root}${sep}${segments.join(sep)}`);
  } catch {
    throw new TftpPathError('not-found', `"${requested}" not found`);
  }
  if (!trusted.some((dir) => under(dir, real))) throw new TftpPathError('access', `"${requested}" resolves outside the TFTP root`);
  const st = await stat(real);
  if (!st.isFile()) throw new TftpPathError('access', `"${requested}" is not a regular file`);
  return real;
}
