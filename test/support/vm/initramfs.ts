/**
 * A tiny busybox initramfs for boot tests: it brings up the NIC it was booted from (BOOTIF),
 * gets an address with udhcpc, POSTs a heartbeat to the URL given on the kernel command line
 * (`skyboot.heartbeat=http://…/heartbeat`), prints marker lines on the console and powers the VM
 * off, so QEMU exits by itself and the test reads the outcome from the serial log.
 *
 * Debian builds the NIC drivers (e1000, virtio_net) as modules, so the modules named here and
 * their dependencies from modules.dep are copied in and loaded by /init before networking.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { findExecutable, hostKernel, requireExecutable, type HostKernel } from './tools.js';

/** Lines /init prints on the console; tests match on them. */
export const MARKER = {
  started: 'SKYBOOT-VM: init started',
  address: 'SKYBOOT-VM: address',
  heartbeatOk: 'SKYBOOT-VM: heartbeat ok',
  heartbeatFailed: 'SKYBOOT-VM: heartbeat failed',
  noNic: 'SKYBOOT-VM: no network interface',
  noLease: 'SKYBOOT-VM: no DHCP lease',
  noUrl: 'SKYBOOT-VM: no skyboot.heartbeat= on the kernel command line',
  poweroff: 'SKYBOOT-VM: powering off',
} as const;

export interface InitramfsOptions {
  /** Where to write the gzip'd cpio archive. */
  outFile: string;
  /** Kernel modules to load (by name, e.g. "e1000"); dependencies are added from modules.dep. */
  modules?: string[];
  /** The kernel whose modules are used; defaults to the host's newest (see hostKernel()). */
  kernel?: HostKernel;
  /**
   * Heartbeat URL used when the command line has no `skyboot.heartbeat=`; normally the boot
   * configuration puts it there, so the same initramfs works for any agent address.
   */
  heartbeatUrl?: string;
  /** A specific busybox binary (static or dynamic); default: the one installed. */
  busybox?: string;
}

export interface BuiltInitramfs {
  path: string;
  bytes: number;
  modules: string[];
  busybox: string;
}

// The scripts live beside this file as plain shell (a template literal would expand their ${…}).
const HERE = dirname(fileURLToPath(import.meta.url));
const INIT = readFileSync(join(HERE, 'init.sh'), 'utf8');
const UDHCPC_SCRIPT = readFileSync(join(HERE, 'udhcpc.script'), 'utf8');

function render(template: string, values: Record<string, string>): string {
  return template.replace(/@([A-Z_]+)@/g, (m, k: string) => values[k] ?? m);
}

/** The module file paths (relative to modulesDir) for `names`, dependencies first. */
export function resolveModules(modulesDir: string, names: string[]): string[] {
  const dep = readFileSync(join(modulesDir, 'modules.dep'), 'utf8');
  const deps = new Map<string, string[]>();
  for (const line of dep.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const rest = line.slice(colon + 1).trim();
    deps.set(line.slice(0, colon), rest ? rest.split(/\s+/) : []);
  }
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(basename(path).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_'), path);
  const order: string[] = [];
  const visit = (path: string): void => {
    if (order.includes(path)) return;
    // modules.dep lists every transitive dependency; load them in reverse (deepest first).
    for (const d of [...(deps.get(path) ?? [])].reverse()) visit(d);
    order.push(path);
  };
  for (const name of names) {
    const path = byName.get(name.replace(/-/g, '_'));
    if (!path) throw new Error(`VM harness: kernel module "${name}" is not in ${join(modulesDir, 'modules.dep')} (built into this kernel, or a different kernel?)`);
    visit(path);
  }
  return order;
}

function moduleBytes(file: string): Buffer {
  if (file.endsWith('.ko')) return readFileSync(file);
  // busybox insmod reads plain ELF objects only.
  if (file.endsWith('.ko.xz')) return execFileSync(requireExecutable('xz', 'xz-utils'), ['-dc', file], { maxBuffer: 1 << 28 });
  if (file.endsWith('.ko.zst')) return execFileSync(requireExecutable('zstd', 'zstd'), ['-dc', file], { maxBuffer: 1 << 28 });
  if (file.endsWith('.ko.gz')) return execFileSync(requireExecutable('gzip', 'gzip'), ['-dc', file], { maxBuffer: 1 << 28 });
  throw new Error(`VM harness: unknown module format ${file}`);
}

/**
 * A static busybox if there is one; otherwise the dynamic one plus the shared objects ldd lists
 * (Debian's `busybox` package is dynamic, `busybox-static` is not; they conflict, so either may
 * be the one installed).
 */
function busyboxWithLibraries(explicit?: string): { busybox: string; libraries: string[] } {
  const candidates = (explicit ? [explicit] : ['/bin/busybox', '/usr/bin/busybox', findExecutable('busybox')]).filter((p): p is string => !!p);
  const busybox = candidates.find((p) => existsSync(p));
  if (!busybox) throw new Error('VM harness: busybox was not found at /bin/busybox, /usr/bin/busybox or on PATH (Debian package busybox or busybox-static)');
  let ldd: string;
  try {
    ldd = execFileSync(requireExecutable('ldd', 'libc-bin'), [busybox], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    // ldd exits non-zero for a static binary ("not a dynamic executable").
    const err = e as { stdout?: string; stderr?: string };
    ldd = `${err.stdout ?? ''}${err.stderr ?? ''}`;
  }
  if (/not a dynamic executable|statically linked/.test(ldd)) return { busybox, libraries: [] };
  const libraries = [...ldd.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!);
  return { busybox, libraries };
}

export function buildInitramfs(opts: InitramfsOptions): BuiltInitramfs {
  const kernel = opts.kernel ?? hostKernel();
  const cpio = requireExecutable('cpio', 'cpio');
  const { busybox, libraries } = busyboxWithLibraries(opts.busybox);
  const modules = resolveModules(kernel.modulesDir, opts.modules ?? []);
  const root = mkdtempSync(join(tmpdir(), 'skyboot-initramfs-'));
  try {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run', 'lib/modules']) mkdirSync(join(root, d), { recursive: true });
    copyFileSync(busybox, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    for (const lib of libraries) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib));
    }
    const order: string[] = [];
    for (const rel of modules) {
      const name = basename(rel).replace(/\.ko(\.(xz|zst|gz))?$/, '.ko');
      writeFileSync(join(root, 'lib/modules', name), moduleBytes(join(kernel.modulesDir, rel)));
      order.push(name);
    }
    writeFileSync(join(root, 'etc/modules.order'), order.join('\n') + '\n');
    writeFileSync(join(root, 'etc/udhcpc.script'), UDHCPC_SCRIPT, { mode: 0o755 });
    const init = render(INIT, {
      STARTED: MARKER.started,
      POWEROFF: MARKER.poweroff,
      NONIC: MARKER.noNic,
      NOLEASE: MARKER.noLease,
      ADDRESS: MARKER.address,
      NOURL: MARKER.noUrl,
      HBOK: MARKER.heartbeatOk,
      HBFAILED: MARKER.heartbeatFailed,
      DEFAULT_URL: opts.heartbeatUrl ?? '',
    });
    writeFileSync(join(root, 'init'), init, { mode: 0o755 });
    const list = execFileSync('find', ['.', '-mindepth', '1'], { cwd: root, encoding: 'utf8' });
    const archive = execFileSync(cpio, ['-o', '-H', 'newc', '-R', '0:0', '--quiet'], { cwd: root, input: list, maxBuffer: 1 << 28 });
    const gz = gzipSync(archive, { level: 9 });
    mkdirSync(dirname(opts.outFile), { recursive: true });
    writeFileSync(opts.outFile, gz);
    return { path: opts.outFile, bytes: gz.length, modules: order, busybox: libraries.length ? `${busybox} (dynamic, with ${libraries.length} libraries)` : `${busybox} (static)` };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
