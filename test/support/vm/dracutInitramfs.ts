/**
 * A real Debian initramfs for iSCSI root boots, built with Debian's dracut the way a site's image
 * pipeline would build one: dracut's own network (dhclient), iSCSI (iscsistart), multipath
 * (multipathd) and live-image (dmsquash-live: a read-only squashfs root under a RAM overlay)
 * modules, for the host's Debian kernel (linux-image-amd64).
 *
 * Two things Debian's packages do not give dracut by themselves, so the image carries them:
 * - /etc/multipath.conf: dracut's `rd.multipath=default` creates one with Red Hat's mpathconf,
 *   which Debian does not ship; without a config dracut's multipath hook removes its rules and
 *   never starts multipathd.
 * - Debian's multipath udev rules (56-dm-mpath, 60-multipath, …): dracut looks for the upstream
 *   names (11-dm-mpath, 40-multipath, …) and skips them, so the map's by-id link never appears.
 * - multipathd's path checker and prioritiser plugins: Debian keeps them in /lib/multipath, which
 *   is not one of dracut's library dirs, and multipathd uses no path without its checker.
 *
 * Building takes about 30 s of CPU, so the result is kept in a cache directory keyed by the
 * kernel and the build inputs; a changed input builds a new one.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostKernel, requireExecutable, requireFile, type HostKernel } from './tools.js';

export interface DracutInitramfs {
  path: string;
  bytes: number;
  kernel: HostKernel;
  /** True when this call built it (false: taken from the cache). */
  built: boolean;
}

const DRACUT_MODULES = ['base', 'udev-rules', 'network-legacy', 'iscsi', 'multipath', 'dmsquash-live', 'kernel-network-modules'];
const DRIVERS = ['virtio_net', 'virtio_pci', 'e1000', 'squashfs', 'overlay', 'dm_multipath', 'dm_round_robin', 'dm_service_time', 'iscsi_tcp', 'sd_mod', 'loop'];
const MULTIPATH_PLUGINS = '/lib/multipath';
const DEBIAN_MULTIPATH_RULES = ['56-dm-mpath.rules', '56-dm-parts.rules', '60-multipath.rules', '60-kpartx.rules'];

/**
 * No friendly names: the root device is named by WWID (/dev/disk/by-id/dm-uuid-mpath-<wwid>),
 * which the agent derives from the image digest, so every agent presents the same identity.
 * find_multipaths no: a single path at first still forms the map, and the second joins it.
 * no_path_retry queue: I/O waits while every path is down instead of failing the root.
 */
export const MULTIPATH_CONF = `defaults {
    user_friendly_names no
    find_multipaths no
    no_path_retry queue
}
`;

function cacheDir(): string {
  return process.env.SKYBOOT_VM_CACHE ?? join(tmpdir(), 'skyboot-vm-cache');
}

export function buildDracutInitramfs(): DracutInitramfs {
  const dracut = requireExecutable('dracut', 'dracut-core (with dracut-network, dracut-live, open-iscsi, multipath-tools)');
  requireExecutable('iscsistart', 'open-iscsi');
  requireExecutable('multipathd', 'multipath-tools');
  requireExecutable('dhclient', 'isc-dhcp-client (a dependency of dracut-network)');
  requireFile('/usr/lib/dracut/modules.d/90dmsquash-live/module-setup.sh', "dracut's dmsquash-live module", 'dracut-live');
  requireFile('/usr/lib/dracut/modules.d/95iscsi/module-setup.sh', "dracut's iscsi module", 'dracut-network');
  const rules = DEBIAN_MULTIPATH_RULES.map((r) => requireFile(`/lib/udev/rules.d/${r}`, `multipath udev rule ${r}`, 'multipath-tools'));
  const plugins = readdirSync(requireFile(MULTIPATH_PLUGINS, "multipathd's plugin directory", 'multipath-tools'))
    .filter((f) => f.endsWith('.so'))
    .map((f) => join(MULTIPATH_PLUGINS, f));
  const kernel = hostKernel();
  const key = createHash('sha256').update(JSON.stringify([kernel.version, DRACUT_MODULES, DRIVERS, rules, plugins, MULTIPATH_CONF])).digest('hex').slice(0, 16);
  const dir = cacheDir();
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `dracut-${kernel.version}-${key}.img`);
  if (existsSync(out)) return { path: out, bytes: statSync(out).size, kernel, built: false };

  const work = mkdtempSync(join(tmpdir(), 'skyboot-dracut-'));
  try {
    mkdirSync(join(work, 'overlay', 'etc'), { recursive: true });
    writeFileSync(join(work, 'overlay', 'etc', 'multipath.conf'), MULTIPATH_CONF);
    const tmp = join(work, 'initrd.img');
    execFileSync(dracut, [
      '--quiet', '--force', '--no-hostonly', '--no-hostonly-cmdline',
      '--kver', kernel.version,
      '--modules', DRACUT_MODULES.join(' '),
      '--add-drivers', DRIVERS.join(' '),
      '--omit', 'systemd plymouth',
      '--include', join(work, 'overlay'), '/',
      '--install', [...rules, ...plugins].join(' '),
      tmp,
    ], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 });
    // Another test file may build the same image at the same time: rename is atomic, last wins.
    renameSync(tmp, out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { path: out, bytes: statSync(out).size, kernel, built: true };
}
