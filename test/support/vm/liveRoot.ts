/**
 * The root filesystem of an iSCSI boot test: a busybox tree packed as squashfs, which dracut's
 * dmsquash-live mounts read-only from the iSCSI LUN under a RAM overlay and switches to.
 *
 * Its /sbin/init reports how the node booted, in a heartbeat to the URL on the kernel command
 * line (`skyboot.heartbeat=`): the root it mounted, the block devices under it (a dm-multipath map
 * and its iSCSI paths), and the iSCSI sessions the kernel holds. Then it keeps reading a payload
 * from its root with the page cache dropped (so every read goes to the LUN) and posts one
 * heartbeat per round, so a test can kill one portal and watch the node keep reading through the
 * other. It powers off after `skyboot.rounds=` rounds (default 60).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireExecutable, requireFile } from './tools.js';

/** Lines /sbin/init prints on the console; tests match on them. */
export const ROOT_MARKER = {
  started: 'SKYBOOT-ROOT: init started',
  heartbeatOk: 'SKYBOOT-ROOT: heartbeat ok',
  heartbeatFailed: 'SKYBOOT-ROOT: heartbeat failed',
  readOk: 'SKYBOOT-ROOT: read ok',
  readFailed: 'SKYBOOT-ROOT: read failed',
  poweroff: 'SKYBOOT-ROOT: powering off',
} as const;

export interface LiveRoot {
  path: string;
  bytes: number;
}

const HERE = dirname(fileURLToPath(import.meta.url));
const APPLETS = ['sh', 'mount', 'cat', 'echo', 'sleep', 'wget', 'dd', 'ls', 'grep', 'sed', 'head', 'tr', 'poweroff', 'sync', 'mkdir', 'ip', 'awk', 'cut', 'timeout', 'readlink', 'basename', 'wc'];

/** `payloadMiB` of random data (it must not compress away: reads have to reach the LUN). */
export function buildLiveRoot(outFile: string, payloadMiB = 8): LiveRoot {
  const mksquashfs = requireExecutable('mksquashfs', 'squashfs-tools');
  const busybox = requireFile('/bin/busybox', 'a static busybox', 'busybox-static');
  const tree = mkdtempSync(join(tmpdir(), 'skyboot-liveroot-'));
  try {
    for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'run', 'tmp', 'etc']) mkdirSync(join(tree, d));
    copyFileSync(busybox, join(tree, 'bin', 'busybox'));
    chmodSync(join(tree, 'bin', 'busybox'), 0o755);
    for (const a of APPLETS) symlinkSync('busybox', join(tree, 'bin', a));
    writeFileSync(join(tree, 'sbin', 'init'), readFileSync(join(HERE, 'liveRoot-init.sh'), 'utf8'), { mode: 0o755 });
    writeFileSync(join(tree, 'etc', 'os-release'), 'NAME="Skyboot iSCSI boot test root"\n');
    writeFileSync(join(tree, 'payload.bin'), randomBytes(payloadMiB * 1024 * 1024));
    execFileSync(mksquashfs, [tree, outFile, '-noappend', '-quiet', '-no-progress', '-all-root'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
  return { path: outFile, bytes: statSync(outFile).size };
}
