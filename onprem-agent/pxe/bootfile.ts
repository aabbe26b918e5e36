/**
 * Which boot file a PXE or HTTP-boot client gets, from its architecture (DHCP option 93,
 * IANA "Processor Architecture Types") and whether it is already running iPXE.
 *
 * Every architecture maps to a family; the site configures one file per family, so an
 * ARM64 site can pick `snp.efi` or `ipxe-arm64.efi` without code changes. Firmware that
 * boots over HTTP (the "boot from http" types) needs a URL instead of a TFTP name.
 */

export type ArchFamily =
  | 'bios' | 'efi-ia32' | 'efi-x64' | 'efi-ebc' | 'efi-arm32' | 'efi-arm64'
  | 'efi-riscv32' | 'efi-riscv64' | 'efi-riscv128' | 'efi-loongarch32' | 'efi-loongarch64'
  | 'efi-mips32' | 'efi-mips64' | 'efi-sunway32' | 'efi-sunway64'
  | 'uboot-arm32' | 'uboot-arm64' | 'ia64' | 'powerpc' | 's390' | 'rpiboot' | 'legacy';

export interface ArchInfo {
  name: string;
  family: ArchFamily;
  /** True when the firmware boots from an HTTP URL (UEFI HTTP boot) instead of TFTP. */
  http: boolean;
}

/** The IANA registry as of RFC 4578 and its updates (types 0-41). */
export const ARCHITECTURES: ReadonlyMap<number, ArchInfo> = new Map<number, ArchInfo>([
  [0, { name: 'x86 BIOS', family: 'bios', http: false }],
  [1, { name: 'NEC/PC98', family: 'legacy', http: false }],
  [2, { name: 'Itanium', family: 'ia64', http: false }],
  [3, { name: 'DEC Alpha', family: 'legacy', http: false }],
  [4, { name: 'Arc x86', family: 'legacy', http: false }],
  [5, { name: 'Intel Lean Client', family: 'legacy', http: false }],
  [6, { name: 'x86 UEFI', family: 'efi-ia32', http: false }],
  [7, { name: 'x64 UEFI', family: 'efi-x64', http: false }],
  [8, { name: 'EFI Xscale', family: 'legacy', http: false }],
  // Type 9 is formally EBC, but a great deal of x64 firmware sends it; iPXE's x64 binary is
  // what those machines need, and a true EBC client is not known to exist in the field.
  [9, { name: 'EBC (x64 UEFI in practice)', family: 'efi-x64', http: false }],
  [10, { name: 'ARM 32-bit UEFI', family: 'efi-arm32', http: false }],
  [11, { name: 'ARM 64-bit UEFI', family: 'efi-arm64', http: false }],
  [12, { name: 'PowerPC Open Firmware', family: 'powerpc', http: false }],
  [13, { name: 'PowerPC ePAPR', family: 'powerpc', http: false }],
  [14, { name: 'POWER OPAL v3', family: 'powerpc', http: false }],
  [15, { name: 'x86 UEFI HTTP', family: 'efi-ia32', http: true }],
  [16, { name: 'x64 UEFI HTTP', family: 'efi-x64', http: true }],
  [17, { name: 'EBC HTTP', family: 'efi-ebc', http: true }],
  [18, { name: 'ARM 32-bit UEFI HTTP', family: 'efi-arm32', http: true }],
  [19, { name: 'ARM 64-bit UEFI HTTP', family: 'efi-arm64', http: true }],
  [20, { name: 'x86 BIOS HTTP', family: 'bios', http: true }],
  [21, { name: 'ARM 32-bit U-Boot', family: 'uboot-arm32', http: false }],
  [22, { name: 'ARM 64-bit U-Boot', family: 'uboot-arm64', http: false }],
  [23, { name: 'ARM 32-bit U-Boot HTTP', family: 'uboot-arm32', http: true }],
  [24, { name: 'ARM 64-bit U-Boot HTTP', family: 'uboot-arm64', http: true }],
  [25, { name: 'RISC-V 32-bit UEFI', family: 'efi-riscv32', http: false }],
  [26, { name: 'RISC-V 32-bit UEFI HTTP', family: 'efi-riscv32', http: true }],
  [27, { name: 'RISC-V 64-bit UEFI', family: 'efi-riscv64', http: false }],
  [28, { name: 'RISC-V 64-bit UEFI HTTP', family: 'efi-riscv64', http: true }],
  [29, { name: 'RISC-V 128-bit UEFI', family: 'efi-riscv128', http: false }],
  [30, { name: 'RISC-V 128-bit UEFI HTTP', family: 'efi-riscv128', http: true }],
  [31, { name: 's390 Basic', family: 's390', http: false }],
  [32, { name: 's390 Extended', family: 's390', http: false }],
  [33, { name: 'MIPS 32-bit UEFI', family: 'efi-mips32', http: false }],
  [34, { name: 'MIPS 64-bit UEFI', family: 'efi-mips64', http: false }],
  [35, { name: 'Sunway 32-bit UEFI', family: 'efi-sunway32', http: false }],
  [36, { name: 'Sunway 64-bit UEFI', family: 'efi-sunway64', http: false }],
  [37, { name: 'LoongArch 32-bit UEFI', family: 'efi-loongarch32', http: false }],
  [38, { name: 'LoongArch 32-bit UEFI HTTP', family: 'efi-loongarch32', http: true }],
  [39, { name: 'LoongArch 64-bit UEFI', family: 'efi-loongarch64', http: false }],
  [40, { name: 'LoongArch 64-bit UEFI HTTP', family: 'efi-loongarch64', http: true }],
  [41, { name: 'ARM rpiboot', family: 'rpiboot', http: false }],
]);

/** File names for the families iPXE builds exist for; Debian's `ipxe` ships the first two. */
export const DEFAULT_BOOT_FILES: Readonly<Partial<Record<ArchFamily, string>>> = {
  bios: 'undionly.kpxe',
  'efi-x64': 'ipxe.efi',
  'efi-ia32': 'ipxe-ia32.efi',
  'efi-arm32': 'ipxe-arm32.efi',
  'efi-arm64': 'ipxe-arm64.efi',
  'efi-riscv64': 'ipxe-riscv64.efi',
  'efi-loongarch64': 'ipxe-loongarch64.efi',
};

export interface BootFileConfig {
  /** Family → file name in the TFTP root (and under `httpBootPrefix` for HTTP boot). */
  bootFiles?: Partial<Record<ArchFamily, string>>;
  /** Base of the agent's HTTP server, e.g. `http://10.0.0.1:8080`. */
  httpBaseUrl: string;
  /** Where the HTTP server serves the TFTP root's files, for HTTP-boot firmware. */
  httpBootPrefix?: string;
}

export interface BootClient {
  /** Architecture types from option 93; absent for old BIOS PXE ROMs. */
  architectures: number[] | undefined;
  /** True when option 77 says `iPXE` or option 175 is present: iPXE already runs. */
  ipxe: boolean;
  mac: string;
}

export interface BootFileChoice {
  bootFile: string;
  /** What option 60 of the reply must say: HTTP-boot firmware only accepts `HTTPClient`. */
  vendorClass: 'PXEClient' | 'HTTPClient';
  arch: number;
  family: ArchFamily;
  /** `ipxe` once the chain loop is broken and the client gets its boot script. */
  stage: 'firmware' | 'ipxe';
}

export const BOOTSCRIPT_PATH = '/boot/v1/bootscript';
export const DEFAULT_HTTP_BOOT_PREFIX = '/boot/v1/ipxe/';

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The boot script URL an iPXE client is given, with its MAC filled in (not `${net0/mac}`). */
export function bootScriptUrl(httpBaseUrl: string, mac: string): string {
  return `${trimSlash(httpBaseUrl)}${BOOTSCRIPT_PATH}?mac=${encodeURIComponent(mac)}`;
}

/**
 * Returns undefined for an architecture the site has no boot file for: answering with a
 * wrong binary makes the firmware hang, silence lets it try its next boot device.
 */
export function chooseBootFile(client: BootClient, cfg: BootFileConfig): BootFileChoice | undefined {
  // A client may list several types; the first one with a configured file wins.
  const candidates = client.architectures?.length ? client.architectures : [0];
  const files = cfg.bootFiles ? { ...DEFAULT_BOOT_FILES, ...cfg.bootFiles } : DEFAULT_BOOT_FILES;
  for (const arch of candidates) {
    const info = ARCHITECTURES.get(arch);
    if (!info) continue;
    const vendorClass = info.http ? 'HTTPClient' : 'PXEClient';
    if (client.ipxe) {
      return { bootFile: bootScriptUrl(cfg.httpBaseUrl, client.mac), vendorClass, arch, family: info.family, stage: 'ipxe' };
    }
    const file = files[info.family];
    if (!file) continue;
    const bootFile = info.http ? `${trimSlash(cfg.httpBaseUrl)}${cfg.httpBootPrefix ?? DEFAULT_HTTP_BOOT_PREFIX}${file}` : file;
    return { bootFile, vendorClass, arch, family: info.family, stage: 'firmware' };
  }
  return undefined;
}

/** `PXEClient:Arch:00007:UNDI:003016` → 7; older ROMs carry the architecture only here. */
export function archFromVendorClass(vendorClass: string | undefined): number | undefined {
  const m = /^(?:PXEClient|HTTPClient):Arch:(\d{5})/.exec(vendorClass ?? '');
  return m ? Number(m[1]) : undefined;
}
