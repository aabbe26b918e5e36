/**
 * Confines a requested TFTP file name to the root. Checking the text alone misses symlinks,
 * so the final answer comes from realpath: the resolved file must lie under the root, or be
 * exactly the file that one of the root's own entries links to, inside a directory allowed
 * for link targets (Debian's /usr/lib/ipxe/ipxe.efi → /boot/ipxe.efi). A link allows that
 * one file, never the directory it sits in: trusting the target's directory let a link
 * `vendor -> /etc` serve `vendor/shadow`. A link to a directory outside the root widens
 * nothing, and neither does a link to a file elsewhere (whoever can write the root could
 * otherwise serve any file the agent can read, its token included).
 */
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, sep } from 'node:path';

export class TftpPathError extends Error {
  constructor(readonly kind: 'not-found' | 'access', message: string) {
    super(message);
  }
}

/** What the server may serve: everything under `root`, plus `linkedFiles` by exact path. */
export interface TftpRootPolicy {
  /** realpath of the root. */
  root: string;
  /** realpaths of the regular files outside the root that the root's own entries link to. */
  linkedFiles: ReadonlySet<string>;
}

/** A link in the root that allows nothing, with the reason (logged at start). */
export interface IgnoredLink {
  name: string;
  target: string;
  reason: string;
}

function under(dir: string, file: string): boolean {
  return file.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/**
 * Reads the root's direct entries once, at start: a symlink there that resolves to a regular
 * file outside the root, under one of `linkTargetDirs`, allows that file; any other link out
 * of the root allows nothing.
 * The realpath is compared again on every request, so re-pointing a link later serves nothing
 * new until the server restarts.
 */
export async function tftpRootPolicy(root: string, linkTargetDirs: readonly string[]): Promise<{ policy: TftpRootPolicy; ignored: IgnoredLink[] }> {
  const realRoot = await realpath(root);
  const allowedDirs = (await Promise.all(linkTargetDirs.map((d) => realpath(d).catch(() => null)))).filter((d): d is string => d !== null);
  const linkedFiles = new Set<string>();
  const ignored: IgnoredLink[] = [];
  for (const name of await readdir(realRoot)) {
    const path = join(realRoot, name);
    if (!(await lstat(path)).isSymbolicLink()) continue;
    const target = await realpath(path).catch(() => null);
    if (target === null) {
      ignored.push({ name, target: '(dangling)', reason: 'the link resolves to nothing' });
      continue;
    }
    if (under(realRoot, target)) continue;
    const st = await stat(target);
    if (!st.isFile()) ignored.push({ name, target, reason: 'links outside the TFTP root to something that is not a regular file; only linked files are served' });
    else if (!allowedDirs.some((d) => under(d, target))) ignored.push({ name, target, reason: `links to a file outside the TFTP root and outside the link-target directories (${allowedDirs.join(', ') || 'none'}): copy the file into the root instead` });
    else linkedFiles.add(target);
  }
  return { policy: { root: realRoot, linkedFiles }, ignored };
}

export async function resolveInRoot(policy: TftpRootPolicy, requested: string): Promise<string> {
  if (requested.includes('\0')) throw new TftpPathError('access', 'file name contains NUL');
  // PXE ROMs send both `/file` and `\file` forms; both mean a name relative to the root.
  const segments = requested.replace(/\\/g, '/').split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0) throw new TftpPathError('access', 'empty file name');
  if (segments.includes('..')) throw new TftpPathError('access', `"${requested}" leaves the TFTP root`);
  let real: string;
  try {
    real = await realpath(`${policy.root}${sep}${segments.join(sep)}`);
  } catch {
    throw new TftpPathError('not-found', `"${requested}" not found`);
  }
  if (!under(policy.root, real) && !policy.linkedFiles.has(real)) throw new TftpPathError('access', `"${requested}" resolves outside the TFTP root`);
  const st = await stat(real);
  if (!st.isFile()) throw new TftpPathError('access', `"${requested}" is not a regular file`);
  return real;
}
