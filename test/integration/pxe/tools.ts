/** Locating the real clients and servers the PXE tests drive; a missing one fails loudly. */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function requireTool(name: string, debianPackage: string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`required tool "${name}" not found on PATH (install the Debian package ${debianPackage})`);
  }
}

export function requireFile(path: string, debianPackage: string): string {
  if (!existsSync(path)) throw new Error(`required file ${path} not found (install the Debian package ${debianPackage})`);
  return path;
}

/** Debian's iPXE binaries; ipxe.efi there is a symlink into /boot. */
export const IPXE_DIR = '/usr/lib/ipxe';
