/**
 * The boot-test initramfs without booting it: what goes into the archive (busybox, /init, the
 * udhcpc script, NIC modules with their dependencies in load order), so a broken builder fails
 * here in a second instead of as a VM that never sends its heartbeat.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildInitramfs, MARKER, resolveModules } from '../../support/vm/initramfs.js';
import { hostKernel, requireExecutable } from '../../support/vm/tools.js';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'skyboot-initramfs-test-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** name → content of every regular file in a newc archive, read with cpio itself. */
function listArchive(gz: Buffer): string[] {
  return execFileSync(requireExecutable('cpio', 'cpio'), ['-t', '--quiet'], { input: gunzipSync(gz), maxBuffer: 1 << 28, encoding: 'utf8' }).split('\n').filter((l) => l.length > 0);
}

test('virtio_net comes with its dependencies, deepest first', () => {
  const order = resolveModules(hostKernel().modulesDir, ['virtio_net']).map((p) => p.split('/').pop()!.replace(/\.ko.*$/, ''));
  expect(order.at(-1)).toBe('virtio_net');
  // net_failover needs failover: failover must be loaded before it.
  expect(order.indexOf('failover')).toBeGreaterThanOrEqual(0);
  expect(order.indexOf('failover')).toBeLessThan(order.indexOf('net_failover'));
  expect(new Set(order).size).toBe(order.length);
});

test('a module the kernel does not have fails with its name and the modules.dep it searched', () => {
  expect(() => resolveModules(hostKernel().modulesDir, ['no_such_nic'])).toThrow(/kernel module "no_such_nic" is not in \/lib\/modules\/.+\/modules\.dep/);
});

test('the archive holds busybox, /init with its markers, the udhcpc script and the modules in load order', () => {
  const out = join(work, 'initrd.gz');
  const built = buildInitramfs({ outFile: out, modules: ['e1000', 'virtio_pci', 'virtio_net'], heartbeatUrl: 'http://10.0.0.1/heartbeat' });
  const gz = readFileSync(out);
  expect(gz.length).toBe(built.bytes);
  const names = listArchive(gz);
  for (const f of ['init', 'bin/busybox', 'etc/udhcpc.script', 'etc/modules.order', 'lib/modules/e1000.ko', 'lib/modules/virtio_net.ko']) expect(names).toContain(f);
  // Extract /init and the module order to check what the VM will run.
  const dir = mkdtempSync(join(work, 'x-'));
  execFileSync(requireExecutable('cpio', 'cpio'), ['-i', '--quiet', '-d', 'init', 'etc/modules.order'], { cwd: dir, input: gunzipSync(gz) });
  const init = readFileSync(join(dir, 'init'), 'utf8');
  expect(init.startsWith('#!/bin/busybox sh\n')).toBe(true);
  for (const m of [MARKER.started, MARKER.heartbeatOk, MARKER.heartbeatFailed, MARKER.poweroff]) expect(init).toContain(m);
  expect(init).not.toMatch(/@[A-Z_]+@/);
  expect(init).toContain('HB="http://10.0.0.1/heartbeat"');
  const order = readFileSync(join(dir, 'etc/modules.order'), 'utf8').trim().split('\n');
  expect(order.indexOf('virtio_net.ko')).toBeGreaterThan(order.indexOf('net_failover.ko'));
  expect(order.indexOf('e1000.ko')).toBeGreaterThanOrEqual(0);
});
