/**
 * Vendor profiles for the simulator. Each carries quirks real BMCs have, so discovery and power
 * code meet them in tests rather than in a customer's machine room.
 */

export type NicPlacement =
  /** EthernetInterfaces under the ComputerSystem (DMTF reference, most rack servers). */
  | 'systems'
  /** No system EthernetInterfaces; MACs only on Chassis NetworkAdapters ports (AssociatedNetworkAddresses). */
  | 'chassis-adapters';

export type MacField = 'MACAddress' | 'PermanentMACAddress';

export interface VendorProfile {
  name: string;
  manufacturer: string;
  model: string;
  /** Systems behind one BMC: blade controllers manage several nodes. */
  systemsPerBmc: number;
  nicPlacement: NicPlacement;
  macField: MacField;
  nicsPerSystem: number;
  /** Manager (BMC) NICs; the BMC's own MAC lives there. */
  managerNics: number;
  expand: boolean;
  /** Basic auth rejected: only X-Auth-Token from a session works. */
  sessionOnly: boolean;
  /** Advertised inline as ResetType@Redfish.AllowableValues, or through an ActionInfo resource. */
  resetTypes: string[];
  resetInfoVia: 'inline' | 'action-info';
  bootMode: 'UEFI' | 'Legacy';
  bootTargets: string[];
  cpus: number;
  dimms: number;
  gpus: number;
  /** GPUs as Processors with ProcessorType GPU, or as PCIeDevices only. */
  gpuAs: 'processor' | 'pcie';
  firmware: string;
  biosVersion: string;
  redfishVersion: string;
}

export const VENDOR_PROFILES: Record<string, VendorProfile> = {
  dmtf: {
    name: 'dmtf', manufacturer: 'Contoso', model: 'Contoso 3500 RackMount', systemsPerBmc: 1,
    nicPlacement: 'systems', macField: 'MACAddress', nicsPerSystem: 2, managerNics: 1, expand: true,
    sessionOnly: false, resetInfoVia: 'inline',
    resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'GracefulRestart', 'ForceRestart', 'PowerCycle', 'Nmi', 'PushPowerButton'],
    bootMode: 'UEFI', bootTargets: ['None', 'Pxe', 'Hdd', 'Cd', 'Usb', 'BiosSetup', 'UefiShell', 'UefiHttp'],
    cpus: 2, dimms: 8, gpus: 0, gpuAs: 'pcie', firmware: '1.45.2', biosVersion: 'P79 v1.45', redfishVersion: '1.11.0',
  },
  ami: {
    name: 'ami', manufacturer: 'GIGA-BYTE TECHNOLOGY CO., LTD', model: 'G292-Z20-00', systemsPerBmc: 1,
    nicPlacement: 'systems', macField: 'PermanentMACAddress', nicsPerSystem: 2, managerNics: 2, expand: true,
    sessionOnly: false, resetInfoVia: 'action-info',
    resetTypes: ['On', 'ForceOff', 'GracefulShutdown', 'ForceRestart'],
    bootMode: 'Legacy', bootTargets: ['None', 'Pxe', 'Cd', 'Usb', 'Hdd', 'BiosSetup', 'UefiShell', 'UefiTarget'],
    cpus: 2, dimms: 16, gpus: 4, gpuAs: 'pcie', firmware: '12.84.13', biosVersion: 'F08', redfishVersion: '1.8.0',
  },
  cray: {
    name: 'cray', manufacturer: 'HPE', model: 'HPE CRAY EX425', systemsPerBmc: 2,
    nicPlacement: 'systems', macField: 'MACAddress', nicsPerSystem: 1, managerNics: 1, expand: false,
    sessionOnly: true, resetInfoVia: 'action-info',
    resetTypes: ['ForceOff', 'On', 'Off', 'ForceRestart'],
    bootMode: 'UEFI', bootTargets: ['None', 'Pxe', 'Hdd', 'UefiHttp'],
    cpus: 2, dimms: 16, gpus: 4, gpuAs: 'processor', firmware: 'nc.1.6.17', biosVersion: 'ex425.bios-1.6.3', redfishVersion: '1.2.0',
  },
  intel: {
    name: 'intel', manufacturer: 'Intel Corporation', model: 'S2600WFT', systemsPerBmc: 1,
    nicPlacement: 'chassis-adapters', macField: 'MACAddress', nicsPerSystem: 2, managerNics: 1, expand: false,
    sessionOnly: false, resetInfoVia: 'inline',
    resetTypes: ['PushPowerButton', 'On', 'GracefulShutdown', 'ForceRestart', 'Nmi', 'ForceOn', 'ForceOff'],
    bootMode: 'Legacy', bootTargets: ['None', 'Pxe', 'Hdd', 'Cd', 'BiosSetup', 'UefiShell', 'Usb'],
    cpus: 2, dimms: 6, gpus: 0, gpuAs: 'pcie', firmware: '1.93.870cf4f0', biosVersion: 'SE5C620.86B.02.01.0012', redfishVersion: '1.1.0',
  },
};

export const VENDOR_NAMES = Object.keys(VENDOR_PROFILES);
