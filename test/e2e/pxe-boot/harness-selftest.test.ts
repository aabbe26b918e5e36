/**
 * Self-test of the VM boot harness (test/support/vm), against stand-ins for the agent: dnsmasq
 * for DHCP, tftpd-hpa for TFTP and a small node HTTP server. It proves the VM, Debian's iPXE
 * ROM and OVMF, the Debian kernel, the test initramfs and its heartbeat all work here, so a
 * failure in agent-boot.test.ts points at the agent, not at the harness. One boot, the longest
 * chain (firmware PXE → TFTP → iPXE → HTTP), to keep the suite's time down; agent-boot.test.ts
 * also boots through Debian's iPXE option ROM (BIOS).
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildInitramfs, MARKER } from '../../support/vm/initramfs.js';
import { bootVm } from '../../support/vm/qemu.js';
import { assertBooted } from '../../support/vm/report.js';
import { createVmSite, type VmSite } from '../../support/vm/site.js';
import { startStandIns, type StandIns } from '../../support/vm/standins.js';
import { hostKernel, requireFile } from '../../support/vm/tools.js';

const BOOT_TIMEOUT_MS = 4 * 60_000;

let work: string;
let site: VmSite | undefined;
let standIns: StandIns | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'skyboot-vm-selftest-'));
  const httpRoot = join(work, 'http');
  const tftpRoot = join(work, 'tftp');
  mkdirSync(httpRoot);
  mkdirSync(tftpRoot);
  const kernel = hostKernel();
  copyFileSync(kernel.image, join(httpRoot, 'vmlinuz'));
  // virtio for the UEFI boot (OVMF drives virtio-net itself); e1000 for the BIOS one (iPXE ROM).
  buildInitramfs({ outFile: join(httpRoot, 'initrd.gz'), modules: ['e1000', 'virtio_pci', 'virtio_net'], kernel });
  copyFileSync(requireFile('/usr/lib/ipxe/ipxe.efi', 'the iPXE EFI binary', 'ipxe'), join(tftpRoot, 'ipxe.efi'));
  copyFileSync(requireFile('/usr/lib/ipxe/undionly.kpxe', 'the iPXE BIOS binary', 'ipxe'), join(tftpRoot, 'undionly.kpxe'));
  site = createVmSite({ octet: 78 });
  const base = `http://${site.address}:8080`;
  // The same kernel line shape the Skyboot renderer produces (BOOTIF, xname, then the
  // configuration's parameters), with iPXE filling in the MAC.
  writeFileSync(
    join(httpRoot, 'boot.ipxe'),
    [
      '#!ipxe',
      'echo harness stand-in boot script',
      `kernel ${base}/vmlinuz initrd=initrd.gz BOOTIF=01-\${net0/mac:hexhyp} xname=x3000c0s1b0n0 console=ttyS0 quiet no_timer_check skyboot.heartbeat=${base}/heartbeat`,
      `initrd ${base}/initrd.gz`,
      'boot',
      '',
    ].join('\n'),
  );
  standIns = await startStandIns({ site, workDir: work, httpRoot, tftpRoot, scriptPath: 'boot.ipxe', httpPort: 8080 });
}, 120_000);

afterAll(async () => {
  await standIns?.stop();
  site?.remove();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('UEFI: OVMF PXE fetches ipxe.efi over TFTP (tftpd-hpa), iPXE chains the HTTP script, heartbeat arrives', async () => {
  const mac = '52:54:00:5e:1f:02';
  const result = await bootVm({ site: site!, mac, serialLog: join(work, 'uefi-serial.log'), timeoutMs: BOOT_TIMEOUT_MS, doneMarker: MARKER.poweroff, firmware: 'uefi' });
  assertBooted('UEFI boot against stand-ins', result, MARKER.heartbeatOk, { 'stand-in logs': standIns!.logs() });
  // OVMF reports the TFTP download on the console; iPXE then runs from it.
  expect(result.serial).toContain('NBP file downloaded successfully');
  expect(result.serial).toContain('iPXE');
  const beats = standIns!.heartbeats().filter((h) => h.body.includes(mac));
  expect(beats).toHaveLength(1);
  process.stderr.write(`harness self-test: UEFI boot took ${result.durationMs} ms\n`);
}, BOOT_TIMEOUT_MS + 30_000);
