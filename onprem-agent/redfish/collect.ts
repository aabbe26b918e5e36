/**
 * Walks one BMC's Redfish tree and records what an inventory needs. Vendors put things in
 * different places; the walk looks where DMTF says first and in the vendors' places after, and
 * reads values as they are (MACAddress or PermanentMACAddress; inline or ActionInfo reset types).
 */
import type { Logger } from 'pino';
import { isInterfaceMac, normaliseMac } from '../../schema/mac.js';
import { RedfishHttpError, type Json, type RedfishClient } from './client.js';
import type { InterfaceRecord, ManagerRecord, SystemInventory } from './types.js';

export type NicObservation = Omit<InterfaceRecord, 'ownerXName' | 'ownerType'>;

export interface SystemObservation extends SystemInventory {
  path: string;
  id: string;
  nics: NicObservation[];
}

export interface BmcObservation {
  vendor: string | null;
  product: string | null;
  redfishVersion: string | null;
  uuid: string | null;
  managers: ManagerRecord[];
  managerNics: NicObservation[];
  systems: SystemObservation[];
  expandUsed: boolean;
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Json | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : undefined);
const link = (o: Json | undefined, key: string): string | null => str(obj(o?.[key])?.['@odata.id']);
const refs = (v: unknown): string[] => (Array.isArray(v) ? v.map((r) => str(obj(r)?.['@odata.id'])).filter((p): p is string => p !== null) : []);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** A member came back inline from $expand when it carries more than its own link. */
const isExpanded = (m: unknown): boolean => Object.keys(obj(m) ?? {}).some((k) => k !== '@odata.id');

const GPU_NAME = /\b(gpu|nvidia|instinct|tesla|radeon|accelerator)\b/i;

export function isRedfishServiceRoot(root: Json): boolean {
  return typeof root.RedfishVersion === 'string' || /ServiceRoot/.test(String(root['@odata.type'] ?? ''));
}

export function expandAdvertised(root: Json): boolean {
  const q = obj(obj(root.ProtocolFeaturesSupported)?.ExpandQuery);
  return q?.ExpandAll === true || q?.Levels === true;
}

export function macOf(resource: Json): { mac: string; field: 'MACAddress' | 'PermanentMACAddress' } | null {
  for (const field of ['MACAddress', 'PermanentMACAddress'] as const) {
    const v = resource[field];
    if (typeof v === 'string' && isInterfaceMac(v)) return { mac: normaliseMac(v), field };
  }
  return null;
}

/**
 * Bounds on one BMC's walk. A real node BMC's tree is a few hundred resources (a large GPU
 * node with every DIMM and PCIe function near a thousand); a tree past these is a loop, a
 * fault or an attack, and walking it would hold the agent's memory and its BMC slots.
 */
export interface WalkLimits {
  /** Distinct GETs in one walk. */
  maxRequests: number;
  /** Members of one collection, over all its pages. */
  maxMembers: number;
  /** Bytes of all answers in one walk. */
  maxBytes: number;
}

export const DEFAULT_WALK_LIMITS: WalkLimits = { maxRequests: 5000, maxMembers: 1024, maxBytes: 64 * 1024 * 1024 };

/** A BMC's tree is larger than a walk may read: the walk stops and the BMC is reported with this reason. */
export class RedfishWalkLimitError extends Error {
  constructor(readonly bmc: string, reason: string) {
    super(`Redfish tree of ${bmc}: ${reason}; the walk was stopped (a loop or an oversize tree)`);
    this.name = 'RedfishWalkLimitError';
  }
}

export class TreeWalker {
  private expand: boolean;
  private expandUsed = false;
  private requests = 0;
  private readonly bytesAtStart: number;
  /** One GET per resource per walk: vendors link one adapter or chassis from several places. */
  private readonly fetched = new Map<string, Promise<Json | null>>();

  constructor(
    private readonly client: RedfishClient,
    private readonly root: Json,
    private readonly log: Logger,
    private readonly limits: WalkLimits = DEFAULT_WALK_LIMITS,
  ) {
    this.expand = expandAdvertised(root);
    this.bytesAtStart = client.bytesReceived;
  }

  private async get(path: string): Promise<Json> {
    if (++this.requests > this.limits.maxRequests) {
      throw new RedfishWalkLimitError(this.client.bmc, `more than ${this.limits.maxRequests} resources`);
    }
    const doc = await this.client.get(path);
    if (this.client.bytesReceived - this.bytesAtStart > this.limits.maxBytes) {
      throw new RedfishWalkLimitError(this.client.bmc, `more than ${this.limits.maxBytes} bytes of answers`);
    }
    return doc;
  }

  private tryGet(path: string): Promise<Json | null> {
    let pending = this.fetched.get(path);
    if (!pending) {
      pending = this.fetchOrSkip(path);
      this.fetched.set(path, pending);
    }
    return pending;
  }

  private async fetchOrSkip(path: string): Promise<Json | null> {
    try {
      return await this.get(path);
    } catch (err) {
      if (err instanceof RedfishHttpError) {
        this.log.debug({ path, status: err.status }, 'resource skipped');
        return null;
      }
      throw err;
    }
  }

  private checkMembers(path: string, count: number): void {
    if (count > this.limits.maxMembers) {
      throw new RedfishWalkLimitError(this.client.bmc, `collection ${path} lists more than ${this.limits.maxMembers} members`);
    }
  }

  /** A collection's members, inline via $expand where it works, one GET each otherwise. */
  async members(path: string | null): Promise<Json[]> {
    if (!path) return [];
    if (this.expand) {
      try {
        const expanded = await this.get(`${path}?$expand=.($levels=1)`);
        const list = Array.isArray(expanded.Members) ? expanded.Members : [];
        if (list.every(isExpanded)) {
          this.checkMembers(path, list.length);
          this.expandUsed = true;
          // A member listed twice is one resource.
          const byId = new Map(list.map((m, i) => [str(obj(m)!['@odata.id']) ?? `#${i}`, obj(m)!]));
          return [...byId.values()];
        }
        this.log.debug({ path }, '$expand ignored by the BMC; fetching members one by one');
      } catch (err) {
        if (!(err instanceof RedfishHttpError)) throw err;
        // The root advertised $expand, but it failed: trust the behaviour, not the advertisement.
        this.log.debug({ path, status: err.status }, '$expand failed; falling back to plain GETs');
        this.expand = false;
      }
    }
    let page = await this.tryGet(path);
    const links = new Set(refs(page?.Members));
    // Large collections come in pages; a page seen before ends the list (a BMC that links in a
    // circle), and the member bound ends a list that only grows.
    for (const seen = new Set([path]); page && typeof page['Members@odata.nextLink'] === 'string' && !seen.has(page['Members@odata.nextLink']);) {
      this.checkMembers(path, links.size);
      const next: string = page['Members@odata.nextLink'];
      seen.add(next);
      page = await this.tryGet(next);
      for (const r of refs(page?.Members)) links.add(r);
    }
    this.checkMembers(path, links.size);
    const got = await Promise.all([...links].map((p) => this.tryGet(p)));
    return got.filter((m): m is Json => m !== null);
  }

  async walk(): Promise<BmcObservation> {
    const root = this.root;
    const [managers, chassisList, systems] = await Promise.all([
      this.members(link(root, 'Managers')),
      this.members(link(root, 'Chassis')),
      this.members(link(root, 'Systems')),
    ]);
    const chassisByPath = new Map(chassisList.map((c) => [str(c['@odata.id']) ?? '', c]));
    const chassisSystems = new Map([...chassisByPath].map(([cp, c]) => [cp, refs(obj(c.Links)?.ComputerSystems)]));
    const managerNics: NicObservation[] = [];
    const managerRecords: ManagerRecord[] = [];
    await Promise.all(managers.map(async (m) => {
      managerRecords.push({
        path: str(m['@odata.id']) ?? '', id: str(m.Id) ?? '', firmwareVersion: str(m.FirmwareVersion),
        model: str(m.Model), uuid: str(m.UUID), managerType: str(m.ManagerType),
      });
      managerNics.push(...this.nicsFrom(await this.members(link(m, 'EthernetInterfaces'))));
    }));
    managerRecords.sort((a, b) => a.path.localeCompare(b.path));
    const systemObs = await Promise.all(systems.map((s) => this.system(s, chassisByPath, chassisSystems, systems.length)));
    const oem = Object.keys(obj(root.Oem) ?? {})[0] ?? null;
    return {
      vendor: str(root.Vendor) ?? oem ?? str(systems[0]?.Manufacturer),
      product: str(root.Product),
      redfishVersion: str(root.RedfishVersion),
      uuid: str(root.UUID),
      managers: managerRecords,
      managerNics,
      systems: systemObs,
      expandUsed: this.expandUsed,
    };
  }

  private nicsFrom(resources: Json[]): NicObservation[] {
    const out: NicObservation[] = [];
    for (const r of resources) {
      const m = macOf(r);
      if (m) out.push({ mac: m.mac, field: m.field, source: str(r['@odata.id']) ?? '', name: str(r.Name) ?? str(r.Id) });
    }
    return out;
  }

  /** MACs on a NetworkAdapter's ports (AssociatedNetworkAddresses) or device functions (Ethernet.MACAddress). */
  private async adapterNics(adapterPath: string): Promise<NicObservation[]> {
    const adapter = await this.tryGet(adapterPath);
    if (!adapter) return [];
    const out: NicObservation[] = [];
    const ports = await this.members(link(adapter, 'Ports') ?? link(adapter, 'NetworkPorts'));
    for (const p of ports) {
      for (const a of strings(p.AssociatedNetworkAddresses)) {
        if (isInterfaceMac(a)) out.push({ mac: normaliseMac(a), field: 'AssociatedNetworkAddresses', source: str(p['@odata.id']) ?? '', name: str(p.Name) ?? str(p.Id) });
      }
    }
    if (out.length === 0) {
      const fns = await this.members(link(adapter, 'NetworkDeviceFunctions'));
      out.push(...this.nicsFrom(fns.map((f) => ({ ...obj(f.Ethernet), '@odata.id': f['@odata.id'], Name: f.Name ?? f.Id }))));
    }
    return out;
  }

  private async resetTypes(system: Json): Promise<{ target: string | null; types: string[] }> {
    const action = obj(obj(system.Actions)?.['#ComputerSystem.Reset']);
    if (!action) return { target: null, types: [] };
    const target = str(action.target);
    const inline = strings(action['ResetType@Redfish.AllowableValues']);
    if (inline.length > 0) return { target, types: inline };
    const info = str(action['@Redfish.ActionInfo']);
    if (!info) return { target, types: [] };
    const res = await this.tryGet(info);
    const param = (Array.isArray(res?.Parameters) ? res.Parameters : []).map(obj).find((p) => p?.Name === 'ResetType');
    return { target, types: strings(param?.AllowableValues) };
  }

  private async system(s: Json, chassisByPath: Map<string, Json>, chassisSystems: Map<string, string[]>, systemCount: number): Promise<SystemObservation> {
    const path = str(s['@odata.id']) ?? '';
    const chassisPaths = [...new Set(refs(obj(s.Links)?.Chassis))];
    // Chassis that name this system, for BMCs that link only from the chassis side.
    for (const [cp, systems] of chassisSystems) {
      if ((systems.includes(path) || (systemCount === 1 && systems.length === 0 && chassisPaths.length === 0 && chassisByPath.size === 1)) && !chassisPaths.includes(cp)) chassisPaths.push(cp);
    }
    const chassis = chassisPaths.map((p) => chassisByPath.get(p)).filter((c): c is Json => c !== undefined);

    const [processors, memory, ethernet, reset] = await Promise.all([
      this.members(link(s, 'Processors')),
      this.members(link(s, 'Memory')),
      this.members(link(s, 'EthernetInterfaces')),
      this.resetTypes(s),
    ]);
    let nics = this.nicsFrom(ethernet);
    if (nics.length === 0) {
      // Fallback places, walked only when the DMTF place had no MACs, to spare slow BMCs.
      const netIfs = await this.members(link(s, 'NetworkInterfaces'));
      const adapters = new Set(netIfs.map((n) => link(obj(n.Links), 'NetworkAdapter')).filter((p): p is string => p !== null));
      for (const c of chassis) for (const a of await this.members(link(c, 'NetworkAdapters'))) adapters.add(str(a['@odata.id']) ?? '');
      for (const a of adapters) if (a) nics = nics.concat(await this.adapterNics(a));
      if (nics.length === 0) {
        for (const n of netIfs) {
          const fns = await this.members(link(n, 'NetworkDeviceFunctions'));
          nics = nics.concat(this.nicsFrom(fns.map((f) => ({ ...obj(f.Ethernet), '@odata.id': f['@odata.id'], Name: f.Name ?? f.Id }))));
        }
      }
    }

    let pcie: Json[] = [];
    const pcieLinks = [...new Set(refs(s.PCIeDevices))];
    this.checkMembers(`${path} PCIeDevices`, pcieLinks.length);
    if (pcieLinks.length > 0) pcie = (await Promise.all(pcieLinks.map((p) => this.tryGet(p)))).filter((d): d is Json => d !== null);
    else if (link(s, 'PCIeDevices')) pcie = await this.members(link(s, 'PCIeDevices'));
    else for (const c of chassis) pcie = pcie.concat(await this.members(link(c, 'PCIeDevices')));

    const boot = obj(s.Boot) ?? {};
    const mode = str(boot.BootSourceOverrideMode);
    return {
      path,
      id: str(s.Id) ?? path.split('/').pop() ?? '',
      uuid: str(s.UUID),
      serial: str(s.SerialNumber),
      model: str(s.Model),
      manufacturer: str(s.Manufacturer),
      sku: str(s.SKU),
      biosVersion: str(s.BiosVersion),
      powerState: str(s.PowerState),
      boot: {
        mode: mode === 'UEFI' || mode === 'Legacy' ? mode : null,
        overrideTarget: str(boot.BootSourceOverrideTarget),
        overrideEnabled: str(boot.BootSourceOverrideEnabled),
        allowableTargets: strings(boot['BootSourceOverrideTarget@Redfish.AllowableValues']),
        bootOrder: strings(boot.BootOrder),
      },
      resetTarget: reset.target,
      resetTypes: reset.types,
      processors: processors.map((p) => ({
        id: str(p.Id) ?? '', type: str(p.ProcessorType), manufacturer: str(p.Manufacturer), model: str(p.Model),
        cores: num(p.TotalCores), threads: num(p.TotalThreads),
      })),
      memory: memory.map((m) => ({
        id: str(m.Id) ?? '', capacityMiB: num(m.CapacityMiB), type: str(m.MemoryDeviceType) ?? str(m.MemoryType),
        speedMHz: num(m.OperatingSpeedMhz), manufacturer: str(m.Manufacturer), serial: str(m.SerialNumber), state: str(obj(m.Status)?.State),
      })),
      totalMemoryGiB: num(obj(s.MemorySummary)?.TotalSystemMemoryGiB),
      pcieDevices: pcie.map((d) => {
        const name = str(d.Name);
        const model = str(d.Model);
        return {
          id: str(d.Id) ?? '', name, manufacturer: str(d.Manufacturer), model, serial: str(d.SerialNumber),
          gpu: GPU_NAME.test(`${name ?? ''} ${model ?? ''} ${str(d.Description) ?? ''}`),
        };
      }),
      chassis: chassis.map((c) => ({
        path: str(c['@odata.id']) ?? '', serial: str(c.SerialNumber), sku: str(c.SKU), assetTag: str(c.AssetTag),
        model: str(c.Model), partNumber: str(c.PartNumber), chassisType: str(c.ChassisType),
      })),
      nics,
    };
  }
}
