/**
 * The discovery report: what the agent learned from the BMCs of a site, in the shape the
 * inventory takes in (Redfish endpoints, components, NICs, hardware). Credentials are never part
 * of it.
 */

export const DISCOVERY_REPORT_VERSION = 1;

export interface ManagerRecord {
  path: string;
  id: string;
  firmwareVersion: string | null;
  model: string | null;
  uuid: string | null;
  managerType: string | null;
}

export interface RedfishEndpointRecord {
  xname: string;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  vendor: string | null;
  product: string | null;
  redfishVersion: string | null;
  uuid: string | null;
  /** What names this BMC whatever its address (`bmcIdentityKey`: uuid:…, mac:…, serial:…); null when it shows none. */
  identity?: string | null;
  managers: ManagerRecord[];
  authMode: 'session' | 'basic' | 'none';
  /** SHA-256 of the BMC's certificate as seen (pinned or not); null over plain HTTP. */
  tlsFingerprint: string | null;
  expandUsed: boolean;
  /** Node xname → ComputerSystem path on this BMC: what power and boot actions address. */
  systems: Array<{ xname: string; path: string }>;
  requests: number;
}

export type ComponentType = 'NodeBMC' | 'Node';

export interface ComponentRecord {
  xname: string;
  type: ComponentType;
  /** HSM-style state: Ready for a BMC that answered; On/Off (or Populated) for a node. */
  state: 'Ready' | 'On' | 'Off' | 'Populated';
  parent: string | null;
  enabled: boolean;
}

export interface InterfaceRecord {
  mac: string;
  ownerXName: string;
  ownerType: ComponentType;
  /** The Redfish resource the MAC was read from. */
  source: string;
  field: 'MACAddress' | 'PermanentMACAddress' | 'AssociatedNetworkAddresses';
  name: string | null;
}

export interface ProcessorRecord {
  id: string;
  type: string | null;
  manufacturer: string | null;
  model: string | null;
  cores: number | null;
  threads: number | null;
}

export interface MemoryRecord {
  id: string;
  capacityMiB: number | null;
  type: string | null;
  speedMHz: number | null;
  manufacturer: string | null;
  serial: string | null;
  state: string | null;
}

export interface PcieDeviceRecord {
  id: string;
  name: string | null;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  gpu: boolean;
}

export interface ChassisRecord {
  path: string;
  serial: string | null;
  sku: string | null;
  assetTag: string | null;
  model: string | null;
  partNumber: string | null;
  chassisType: string | null;
}

export interface BootRecord {
  /** UEFI, Legacy, or null where the BMC does not say. */
  mode: 'UEFI' | 'Legacy' | null;
  overrideTarget: string | null;
  overrideEnabled: string | null;
  allowableTargets: string[];
  bootOrder: string[];
}

/** What one ComputerSystem says about itself, as read from the BMC. */
export interface SystemInventory {
  uuid: string | null;
  serial: string | null;
  model: string | null;
  manufacturer: string | null;
  sku: string | null;
  biosVersion: string | null;
  powerState: string | null;
  boot: BootRecord;
  resetTarget: string | null;
  resetTypes: string[];
  processors: ProcessorRecord[];
  memory: MemoryRecord[];
  totalMemoryGiB: number | null;
  pcieDevices: PcieDeviceRecord[];
  chassis: ChassisRecord[];
}

export interface NodeHardware extends SystemInventory {
  xname: string;
  bmcXName: string;
  systemPath: string;
  gpus: Array<{ id: string; model: string | null; source: 'Processor' | 'PCIeDevice' }>;
}

export interface UnreachableRecord {
  host: string;
  port: number;
  /** `untrusted`: an HTTPS BMC whose certificate is neither pinned, CA-verified nor explicitly trusted; no credentials went to it. */
  stage: 'tcp' | 'service-root' | 'untrusted' | 'auth' | 'walk' | 'identity';
  reason: string;
}

export interface ReportChanges {
  added: string[];
  removed: string[];
  modified: Array<{ xname: string; fields: string[] }>;
  macsAdded: string[];
  macsRemoved: string[];
}

export interface DiscoveryStats {
  addressesScanned: number;
  bmcsFound: number;
  nodes: number;
  requests: number;
  busyResponses: number;
  durationMs: number;
}

export interface DiscoveryReport {
  version: typeof DISCOVERY_REPORT_VERSION;
  startedAt: string;
  finishedAt: string;
  ranges: string[];
  redfishEndpoints: RedfishEndpointRecord[];
  components: ComponentRecord[];
  interfaces: InterfaceRecord[];
  hardware: NodeHardware[];
  unreachable: UnreachableRecord[];
  stats: DiscoveryStats;
  /** Against the previous report, when one was given. */
  changes: ReportChanges | null;
  /**
   * In the stored map only: BMCs this scan did not reach, kept from an earlier one (a scan of
   * part of the site, or one that failed, never drops them), with when they were last seen.
   */
  carriedOver?: Array<{ xname: string; host: string; port: number; lastSeenAt: string }>;
}

/** Known Redfish endpoints from the cloud snapshot: `host` or `host:port` → BMC xname. */
export type InventoryEndpointMap = Record<string, string>;
