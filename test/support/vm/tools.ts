/**
 * Locating the host tools the VM harness needs. A missing tool is an error that names what was
 * looked for and which Debian package provides it: the boot tests fail loudly, never skip.
 */
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const EXTRA_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'];

/** Absolute path of an executable on PATH (plus the sbin dirs), or null. */
export function findExecutable(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d.length > 0);
  for (const dir of dirs) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

export function requireExecutable(name: string, debianPackage: string): string {
  const p = findExecutable(name);
  if (!p) throw new Error(`VM harness: the executable "${name}" was not found on PATH or in ${EXTRA_DIRS.join(', ')} (Debian package ${debianPackage})`);
  return p;
}

export function requireFile(path: string, what: string, debianPackage: string): string {
  if (!existsSync(path)) throw new Error(`VM harness: ${what} was not found at ${path} (Debian package ${debianPackage})`);
  return path;
}

export interface HostKernel {
  version: string;
  /** /boot/vmlinuz-<version> */
  image: string;
  /** /lib/modules/<version> */
  modulesDir: string;
}

/**
 * The newest kernel in /boot that also has its modules installed (the initramfs needs the NIC
 * driver, which Debian builds as a module).
 */
export function hostKernel(): HostKernel {
  const images = existsSync('/boot') ? readdirSync('/boot').filter((f) => f.startsWith('vmlinuz-')) : [];
  const candidates = images
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join('/lib/modules', v, 'modules.dep')))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = candidates.at(-1);
  if (!version) {
    throw new Error(`VM harness: no kernel found: looked for /boot/vmlinuz-<version> with /lib/modules/<version>/modules.dep (found images: ${images.join(', ') || 'none'}; Debian package linux-image-amd64)`);
  }
  return { version, image: join('/boot', `vmlinuz-${version}`), modulesDir: join('/lib/modules', version) };
}
