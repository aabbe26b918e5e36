/**
 * Boots a QEMU VM from the network on a site's tap device and captures its serial console.
 * TCG by default: KVM under this project's nested virtualisation has been seen to stall, so it is
 * used only when SKYBOOT_VM_ACCEL=kvm asks for it.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type VmSite } from './site.js';
import { requireExecutable, requireFile } from './tools.js';

export type Firmware = 'bios' | 'uefi';

export interface BootOptions {
  site: VmSite;
  mac: string;
  /** Where the serial console is written (kept for the failure message and for humans). */
  serialLog: string;
  /** Upper bound for the whole boot; the VM is killed after it. */
  timeoutMs: number;
  /** Stop as soon as the serial log contains this (the VM normally powers itself off). */
  doneMarker?: string;
  /**
   * Stop at once if the serial log contains one of these: firmware that gave up on the network
   * (EFI shell, iPXE's "No more network devices") would otherwise sit until the timeout.
   */
  failMarkers?: string[];
  firmware?: Firmware;
  memoryMb?: number;
  accel?: 'tcg' | 'kvm';
}

export interface BootResult {
  /** QEMU's exit code, or null when it was killed. */
  exitCode: number | null;
  timedOut: boolean;
  /** The fail marker that stopped the VM early, if any. */
  failedOn: string | null;
  durationMs: number;
  serial: string;
  /** The QEMU command line, for the failure message. */
  command: string;
  stderr: string;
}

export const DEFAULT_FAIL_MARKERS = ['Shell> ', 'No more network devices', 'Kernel panic', 'No bootable device'];

const BIOS_ROM = '/usr/lib/ipxe/qemu/pxe-e1000.rom';
const OVMF_CODE = ['/usr/share/OVMF/OVMF_CODE_4M.fd', '/usr/share/OVMF/OVMF_CODE.fd'];

export function qemuArgs(opts: BootOptions): string[] {
  const accel = opts.accel ?? (process.env.SKYBOOT_VM_ACCEL === 'kvm' ? 'kvm' : 'tcg');
  const args = [
    '-machine', `pc,accel=${accel}`,
    '-m', String(opts.memoryMb ?? 512),
    '-smp', '1',
    '-display', 'none',
    '-vga', 'none',
    '-monitor', 'none',
    '-serial', `file:${opts.serialLog}`,
    '-no-reboot',
    '-netdev', `tap,id=n0,ifname=${opts.site.tap},script=no,downscript=no`,
  ];
  if ((opts.firmware ?? 'bios') === 'bios') {
    // Debian's ipxe-qemu ROM is iPXE itself: it does DHCP, then TFTP or HTTP as the answer says.
    requireFile(BIOS_ROM, 'the iPXE option ROM for QEMU e1000', 'ipxe-qemu');
    args.push('-device', `e1000,netdev=n0,mac=${opts.mac},romfile=${BIOS_ROM}`, '-boot', 'n');
  } else {
    // OVMF's own PXE (no option ROM): DHCP as PXEClient arch 7, TFTP of ipxe.efi, then iPXE.
    const code = OVMF_CODE.find((p) => existsSync(p));
    if (!code) throw new Error(`VM harness: OVMF firmware was not found at ${OVMF_CODE.join(' or ')} (Debian package ovmf)`);
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${code}`);
    // romfile= (none): OVMF's built-in virtio-net driver and PXE do the network boot.
    args.push('-device', `virtio-net-pci,netdev=n0,mac=${opts.mac},romfile=`, '-boot', 'n');
  }
  return args;
}

export async function bootVm(opts: BootOptions): Promise<BootResult> {
  const qemu = requireExecutable('qemu-system-x86_64', 'qemu-system-x86');
  writeFileSync(opts.serialLog, '');
  const args = qemuArgs(opts);
  const started = Date.now();
  const child: ChildProcess = opts.site.spawn(qemu, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const readSerial = (): string => {
    try {
      return readFileSync(opts.serialLog, 'utf8');
    } catch {
      return '';
    }
  };
  let timedOut = false;
  let failedOn: string | null = null;
  const exitCode = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    // The initramfs powers off after its marker; polling the log also ends a VM whose firmware
    // ignores the power-off, a second after the marker.
    const poll = setInterval(() => {
      const serial = readSerial();
      if (opts.doneMarker && serial.includes(opts.doneMarker)) {
        setTimeout(() => child.kill('SIGKILL'), 1000).unref();
      }
      const failed = (opts.failMarkers ?? DEFAULT_FAIL_MARKERS).find((m) => serial.includes(m));
      if (failed && !failedOn) {
        failedOn = failed;
        // A second for the firmware to print why, then stop.
        setTimeout(() => child.kill('SIGKILL'), 1000).unref();
      }
    }, 500);
    child.once('error', () => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(null);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      clearInterval(poll);
      resolve(code);
    });
  });
  return {
    exitCode,
    timedOut,
    failedOn,
    durationMs: Date.now() - started,
    serial: readSerial(),
    command: ['ip', 'netns', 'exec', opts.site.ns, qemu, ...args].join(' '),
    stderr,
  };
}

/** The serial log's last lines, for failure messages. */
export function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}
