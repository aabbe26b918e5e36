/**
 * One simulated BMC: a Redfish tree generated from a vendor profile and a seed, with stateful
 * power and boot override. Transport (HTTP, latency, 503 bursts) lives in fleet.ts; this file
 * only answers requests.
 */
import { randomBytes } from 'node:crypto';
import { seededMac, seededSerial, seededUuid } from './seeded.js';
import type { VendorProfile } from './vendors.js';

export type PowerState = 'On' | 'Off' | 'PoweringOn' | 'PoweringOff';

export interface SimRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface SimResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface SimulatedSystemState {
  id: string;
  powerState: PowerState;
  bootOverrideTarget: string;
  bootOverrideEnabled: 'Disabled' | 'Once' | 'Continuous';
  bootOverrideMode: 'UEFI' | 'Legacy';
  /** What the last power-on booted from, so tests can prove a one-time override was used once. */
  lastBootSource: string;
  resetsReceived: string[];
}

export interface BmcOptions {
  index: number;
  seed: string;
  profile: VendorProfile;
  username: string;
  password: string;
  /** How long a power transition (PoweringOn/PoweringOff) takes. */
  powerTransitionMs: number;
  /** Advertise $expand but fail it, to exercise the client's fallback. */
  brokenExpand: boolean;
  /** Answer 405 to session creation, as BMCs with sessions disabled do, leaving basic auth. */
  noSessions: boolean;
  /** Told when a system's power reaches On or Off (the simulated OS boots or stops). */
  onPower?: (systemId: string, on: boolean) => void;
}

type Json = Record<string, unknown>;

const ROOT = '/redfish/v1';
const ref = (p: string): Json => ({ '@odata.id': p });

function collection(path: string, type: string, members: string[]): Json {
  return {
    '@odata.id': path,
    '@odata.type': `#${type}Collection.${type}Collection`,
    Name: `${type} Collection`,
    Members: members.map(ref),
    'Members@odata.count': members.length,
  };
}

function redfishError(status: number, messageId: string, message: string): SimResponse {
  return { status, body: { error: { code: `Base.1.8.${messageId}`, message, '@Message.ExtendedInfo': [{ MessageId: `Base.1.8.${messageId}`, Message: message }] } } };
}

export class SimulatedBmc {
  readonly opts: BmcOptions;
  readonly systems: SimulatedSystemState[] = [];
  private readonly resources = new Map<string, Json>();
  private readonly sessions = new Map<string, string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private sessionSeq = 0;

  constructor(opts: BmcOptions) {
    this.opts = opts;
    this.build();
  }

  get profile(): VendorProfile {
    return this.opts.profile;
  }

  /** Cancels pending power transitions so a closed fleet leaves no timers behind. */
  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private put(path: string, body: Json): void {
    this.resources.set(path, { '@odata.id': path, ...body });
  }

  private systemId(n: number): string {
    const p = this.profile;
    if (p.name === 'cray') return `Node${n}`;
    if (p.name === 'ami') return n === 0 ? 'Self' : `Self${n}`;
    return seededSerial('', this.opts.seed, this.opts.index, 'sysid', n).slice(0, 11);
  }

  private build(): void {
    const { seed, index: i, profile: p } = this.opts;
    const sysIds = Array.from({ length: p.systemsPerBmc }, (_, n) => this.systemId(n));
    const chassisIds = sysIds.map((_, n) => (p.systemsPerBmc > 1 ? `Blade${n}` : 'Self'));
    const enclosure = p.systemsPerBmc > 1 ? 'Enclosure' : null;
    const protocol = p.expand || this.opts.brokenExpand
      ? { ExpandQuery: { ExpandAll: true, Levels: true, MaxLevels: 3, Links: true, NoLinks: true }, SelectQuery: false }
      : { ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false, MaxLevels: 0 }, SelectQuery: false };
    this.put(`${ROOT}/`, {
      '@odata.type': '#ServiceRoot.v1_5_0.ServiceRoot', Id: 'RootService', Name: 'Root Service',
      RedfishVersion: p.redfishVersion, UUID: seededUuid(seed, i, 'root'), Vendor: p.manufacturer, Product: p.model,
      ProtocolFeaturesSupported: protocol,
      Systems: ref(`${ROOT}/Systems`), Managers: ref(`${ROOT}/Managers`), Chassis: ref(`${ROOT}/Chassis`),
      SessionService: ref(`${ROOT}/SessionService`), Links: { Sessions: ref(`${ROOT}/SessionService/Sessions`) },
    });
    this.put(`${ROOT}/SessionService`, { '@odata.type': '#SessionService.v1_1_8.SessionService', Id: 'SessionService', ServiceEnabled: true, Sessions: ref(`${ROOT}/SessionService/Sessions`) });

    const mgr = `${ROOT}/Managers/BMC`;
    this.put(`${ROOT}/Managers`, collection(`${ROOT}/Managers`, 'Manager', [mgr]));
    this.put(mgr, {
      '@odata.type': '#Manager.v1_10_0.Manager', Id: 'BMC', Name: 'Manager', ManagerType: p.systemsPerBmc > 1 ? 'EnclosureManager' : 'BMC',
      FirmwareVersion: p.firmware, Model: `${p.model} BMC`, UUID: seededUuid(seed, i, 'manager'), PowerState: 'On',
      EthernetInterfaces: ref(`${mgr}/EthernetInterfaces`),
      Links: { ManagerForServers: sysIds.map((s) => ref(`${ROOT}/Systems/${s}`)), ManagerForChassis: chassisIds.map((c) => ref(`${ROOT}/Chassis/${c}`)) },
    });
    const mgrNics = Array.from({ length: p.managerNics }, (_, k) => `${mgr}/EthernetInterfaces/eth${k}`);
    this.put(`${mgr}/EthernetInterfaces`, collection(`${mgr}/EthernetInterfaces`, 'EthernetInterface', mgrNics));
    mgrNics.forEach((path, k) => this.put(path, this.nic(`eth${k}`, seededMac(seed, i, 'mgr', k), 'Manager NIC')));

    this.put(`${ROOT}/Systems`, collection(`${ROOT}/Systems`, 'ComputerSystem', sysIds.map((s) => `${ROOT}/Systems/${s}`)));
    const chassisPaths = [...chassisIds.map((c) => `${ROOT}/Chassis/${c}`), ...(enclosure ? [`${ROOT}/Chassis/${enclosure}`] : [])];
    this.put(`${ROOT}/Chassis`, collection(`${ROOT}/Chassis`, 'Chassis', chassisPaths));
    if (enclosure) {
      this.put(`${ROOT}/Chassis/${enclosure}`, {
        '@odata.type': '#Chassis.v1_10_0.Chassis', Id: enclosure, ChassisType: 'Enclosure', Manufacturer: p.manufacturer,
        SerialNumber: seededSerial('EN', seed, i, 'enclosure'), SKU: 'EX-ENC', AssetTag: null,
        Links: { Contains: chassisIds.map((c) => ref(`${ROOT}/Chassis/${c}`)), ManagedBy: [ref(mgr)] },
      });
    }

    sysIds.forEach((sid, n) => this.buildSystem(sid, n, chassisIds[n]!, mgr));
  }

  private nic(id: string, mac: string, description: string): Json {
    const field = this.profile.macField;
    // The PermanentMACAddress quirk: the burned-in MAC is the only one reported.
    const macs = field === 'MACAddress' ? { MACAddress: mac } : { PermanentMACAddress: mac };
    return { '@odata.type': '#EthernetInterface.v1_5_0.EthernetInterface', Id: id, Name: id, Description: description, ...macs, Status: { State: 'Enabled', Health: 'OK' } };
  }

  private buildSystem(sid: string, n: number, chassisId: string, mgr: string): void {
    const { seed, index: i, profile: p } = this.opts;
    const sys = `${ROOT}/Systems/${sid}`;
    const chassis = `${ROOT}/Chassis/${chassisId}`;
    this.systems.push({ id: sid, powerState: 'On', bootOverrideTarget: 'None', bootOverrideEnabled: 'Disabled', bootOverrideMode: p.bootMode, lastBootSource: 'Hdd', resetsReceived: [] });

    const cpuIds = Array.from({ length: p.cpus }, (_, k) => `CPU${k}`);
    const gpuProcIds = p.gpuAs === 'processor' ? Array.from({ length: p.gpus }, (_, k) => `GPU${k}`) : [];
    this.put(`${sys}/Processors`, collection(`${sys}/Processors`, 'Processor', [...cpuIds, ...gpuProcIds].map((c) => `${sys}/Processors/${c}`)));
    cpuIds.forEach((c, k) => this.put(`${sys}/Processors/${c}`, {
      '@odata.type': '#Processor.v1_7_0.Processor', Id: c, Name: c, ProcessorType: 'CPU', Socket: `P${k}`,
      Manufacturer: 'AMD', Model: 'AMD EPYC 7763 64-Core Processor', TotalCores: 64, TotalThreads: 128, MaxSpeedMHz: 3525,
      Status: { State: 'Enabled', Health: 'OK' },
    }));
    gpuProcIds.forEach((g, k) => this.put(`${sys}/Processors/${g}`, {
      '@odata.type': '#Processor.v1_7_0.Processor', Id: g, Name: g, ProcessorType: 'GPU', Socket: `OAM${k}`,
      Manufacturer: 'AMD', Model: 'AMD Instinct MI250X', SerialNumber: seededSerial('GP', seed, i, n, k), Status: { State: 'Enabled', Health: 'OK' },
    }));
    const dimmIds = Array.from({ length: p.dimms }, (_, k) => `DIMM${k}`);
    this.put(`${sys}/Memory`, collection(`${sys}/Memory`, 'Memory', dimmIds.map((d) => `${sys}/Memory/${d}`)));
    dimmIds.forEach((d, k) => this.put(`${sys}/Memory/${d}`, {
      '@odata.type': '#Memory.v1_7_0.Memory', Id: d, Name: d, MemoryDeviceType: 'DDR4', CapacityMiB: 16384, OperatingSpeedMhz: 3200,
      Manufacturer: 'Samsung', SerialNumber: seededSerial('M', seed, i, n, k), Status: { State: 'Enabled', Health: 'OK' },
    }));

    const nicIds = Array.from({ length: p.nicsPerSystem }, (_, k) => `NIC${k}`);
    const sysExtra: Json = {};
    if (p.nicPlacement === 'systems') {
      this.put(`${sys}/EthernetInterfaces`, collection(`${sys}/EthernetInterfaces`, 'EthernetInterface', nicIds.map((x) => `${sys}/EthernetInterfaces/${x}`)));
      nicIds.forEach((x, k) => this.put(`${sys}/EthernetInterfaces/${x}`, this.nic(x, seededMac(seed, i, 'sys', n, k), `Host NIC ${k}`)));
      sysExtra.EthernetInterfaces = ref(`${sys}/EthernetInterfaces`);
    }
    const chassisExtra: Json = {};
    if (p.nicPlacement === 'chassis-adapters') {
      const adapter = `${chassis}/NetworkAdapters/NIC0`;
      this.put(`${chassis}/NetworkAdapters`, collection(`${chassis}/NetworkAdapters`, 'NetworkAdapter', [adapter]));
      this.put(adapter, { '@odata.type': '#NetworkAdapter.v1_5_0.NetworkAdapter', Id: 'NIC0', Name: 'X710 adapter', Manufacturer: 'Intel', Model: 'X710-DA2', NetworkPorts: ref(`${adapter}/NetworkPorts`) });
      this.put(`${adapter}/NetworkPorts`, collection(`${adapter}/NetworkPorts`, 'NetworkPort', nicIds.map((_, k) => `${adapter}/NetworkPorts/${k + 1}`)));
      nicIds.forEach((_, k) => this.put(`${adapter}/NetworkPorts/${k + 1}`, {
        '@odata.type': '#NetworkPort.v1_2_0.NetworkPort', Id: String(k + 1), PhysicalPortNumber: String(k + 1), LinkStatus: 'Up',
        AssociatedNetworkAddresses: [seededMac(seed, i, 'sys', n, k)],
      }));
      chassisExtra.NetworkAdapters = ref(`${chassis}/NetworkAdapters`);
    }
    const pcieIds = p.gpuAs === 'pcie' ? Array.from({ length: p.gpus }, (_, k) => `GPU${k}`) : [];
    if (pcieIds.length > 0) {
      const devs = pcieIds.map((g) => `${chassis}/PCIeDevices/${g}`);
      this.put(`${chassis}/PCIeDevices`, collection(`${chassis}/PCIeDevices`, 'PCIeDevice', devs));
      pcieIds.forEach((g, k) => this.put(devs[k]!, {
        '@odata.type': '#PCIeDevice.v1_5_0.PCIeDevice', Id: g, Name: `GPU ${k}`, Manufacturer: 'NVIDIA Corporation', Model: 'NVIDIA A100-SXM4-40GB',
        DeviceType: 'SingleFunction', SerialNumber: seededSerial('GP', seed, i, n, k), Status: { State: 'Enabled', Health: 'OK' },
      }));
      // Systems link PCIe devices as an array of references, as DMTF's schema (and Gigabyte) do.
      sysExtra.PCIeDevices = devs.map(ref);
      chassisExtra.PCIeDevices = ref(`${chassis}/PCIeDevices`);
    }

    const reset: Json = { target: `${sys}/Actions/ComputerSystem.Reset` };
    if (p.resetInfoVia === 'inline') reset['ResetType@Redfish.AllowableValues'] = p.resetTypes;
    else {
      reset['@Redfish.ActionInfo'] = `${sys}/ResetActionInfo`;
      this.put(`${sys}/ResetActionInfo`, { '@odata.type': '#ActionInfo.v1_1_2.ActionInfo', Id: 'ResetActionInfo', Parameters: [{ Name: 'ResetType', Required: true, DataType: 'String', AllowableValues: p.resetTypes }] });
    }
    this.put(sys, {
      '@odata.type': '#ComputerSystem.v1_13_0.ComputerSystem', Id: sid, Name: p.systemsPerBmc > 1 ? sid : 'System', SystemType: 'Physical',
      Manufacturer: p.manufacturer, Model: p.model, SerialNumber: seededSerial('SN', seed, i, n), UUID: seededUuid(seed, i, 'system', n),
      SKU: `${p.name.toUpperCase()}-${n}`, BiosVersion: p.biosVersion, HostName: '',
      ProcessorSummary: { Count: p.cpus, Model: 'AMD EPYC 7763 64-Core Processor' }, MemorySummary: { TotalSystemMemoryGiB: (p.dimms * 16) },
      Processors: ref(`${sys}/Processors`), Memory: ref(`${sys}/Memory`), ...sysExtra,
      Actions: { '#ComputerSystem.Reset': reset },
      Links: { Chassis: [ref(chassis)], ManagedBy: [ref(mgr)] },
    });
    this.put(chassis, {
      '@odata.type': '#Chassis.v1_10_0.Chassis', Id: chassisId, ChassisType: p.systemsPerBmc > 1 ? 'Blade' : 'RackMount', Manufacturer: p.manufacturer,
      Model: p.model, SerialNumber: seededSerial('CH', seed, i, n), SKU: `${p.name.toUpperCase()}-CH`, PartNumber: `PN-${p.name}-${n}`,
      AssetTag: `asset-${i}-${n}`, ...chassisExtra, Links: { ComputerSystems: [ref(sys)], ManagedBy: [ref(mgr)] },
    });
  }

  private systemView(state: SimulatedSystemState): Json {
    const base = this.resources.get(`${ROOT}/Systems/${state.id}`)!;
    return {
      ...base,
      PowerState: state.powerState,
      Status: { State: 'Enabled', Health: 'OK' },
      Boot: {
        BootSourceOverrideTarget: state.bootOverrideTarget,
        'BootSourceOverrideTarget@Redfish.AllowableValues': this.profile.bootTargets,
        BootSourceOverrideEnabled: state.bootOverrideEnabled,
        'BootSourceOverrideEnabled@Redfish.AllowableValues': ['Disabled', 'Once', 'Continuous'],
        BootSourceOverrideMode: state.bootOverrideMode,
        'BootSourceOverrideMode@Redfish.AllowableValues': ['UEFI', 'Legacy'],
      },
    };
  }

  private resource(path: string): Json | undefined {
    const state = this.systems.find((s) => `${ROOT}/Systems/${s.id}` === path);
    return state ? this.systemView(state) : this.resources.get(path);
  }

  private authorised(req: SimRequest): boolean {
    const token = req.headers['x-auth-token'];
    if (typeof token === 'string') return this.sessions.has(token);
    const auth = req.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Basic ') && !this.profile.sessionOnly) {
      const [u, ...rest] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      return u === this.opts.username && rest.join(':') === this.opts.password;
    }
    return false;
  }

  handle(req: SimRequest): SimResponse {
    let path = req.path.replace(/\/+$/, '');
    if (path === '/redfish') return { status: 200, body: { v1: `${ROOT}/` } };
    if (path === ROOT) path = `${ROOT}/`;
    const sessions = `${ROOT}/SessionService/Sessions`;
    if (path === `${ROOT}/` && req.method === 'GET') return { status: 200, body: this.resources.get(path) };
    if (path === sessions && req.method === 'POST') {
      return this.opts.noSessions ? redfishError(405, 'ActionNotSupported', 'Session creation is disabled on this service.') : this.createSession(req.body);
    }
    if (!this.authorised(req)) {
      return { ...redfishError(401, 'NoValidSession', 'There is no valid session established with the implementation.'), headers: { 'WWW-Authenticate': this.profile.sessionOnly ? 'X-Auth-Token' : 'Basic realm="BMC"' } };
    }
    if (path.startsWith(`${sessions}/`) && req.method === 'DELETE') {
      const id = path.slice(sessions.length + 1);
      for (const [token, sid] of this.sessions) if (sid === id) this.sessions.delete(token);
      return { status: 204 };
    }
    const resetMatch = /^\/redfish\/v1\/Systems\/([^/]+)\/Actions\/ComputerSystem\.Reset$/.exec(path);
    if (resetMatch && req.method === 'POST') return this.reset(resetMatch[1]!, req.body);
    if (req.method === 'PATCH') {
      const state = this.systems.find((s) => `${ROOT}/Systems/${s.id}` === path);
      return state ? this.patchSystem(state, req.body) : redfishError(405, 'ActionNotSupported', `PATCH is not supported on ${path}`);
    }
    if (req.method !== 'GET') return redfishError(405, 'ActionNotSupported', `${req.method} is not supported on ${path}`);
    const body = this.resource(path);
    if (!body) return redfishError(404, 'ResourceMissingAtURI', `The resource at the URI ${path} was not found.`);
    const expand = req.query.get('$expand');
    if (expand !== null) return this.expand(body, expand);
    return { status: 200, body };
  }

  private expand(body: Json, expand: string): SimResponse {
    if (this.opts.brokenExpand) return redfishError(500, 'InternalError', 'The request failed due to an internal service error.');
    if (!this.profile.expand) return redfishError(400, 'QueryNotSupported', `Querying is not supported: $expand=${expand}`);
    const members = body.Members;
    if (!Array.isArray(members)) return { status: 200, body };
    const inline = members.map((m: Json) => this.resource(String(m['@odata.id'])) ?? m);
    return { status: 200, body: { ...body, Members: inline } };
  }

  private createSession(raw: string): SimResponse {
    let creds: Json;
    try {
      creds = JSON.parse(raw) as Json;
    } catch {
      return redfishError(400, 'MalformedJSON', 'The request body submitted was malformed JSON.');
    }
    if (creds.UserName !== this.opts.username || creds.Password !== this.opts.password) {
      return redfishError(401, 'InvalidCredentials', 'Invalid username or password.');
    }
    const id = String(++this.sessionSeq);
    const token = randomBytes(16).toString('hex');
    this.sessions.set(token, id);
    const location = `${ROOT}/SessionService/Sessions/${id}`;
    return { status: 201, headers: { 'X-Auth-Token': token, Location: location }, body: { '@odata.id': location, Id: id, UserName: creds.UserName } };
  }

  activeSessions(): number {
    return this.sessions.size;
  }

  private later(fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, this.opts.powerTransitionMs);
    this.timers.add(t);
  }

  /** Every change to On or Off goes through here, so the simulated OS hears of each. */
  private setPower(state: SimulatedSystemState, to: PowerState): void {
    const was = state.powerState;
    state.powerState = to;
    if (to === 'Off' && was !== 'Off') this.opts.onPower?.(state.id, false);
    if (to === 'On' && was !== 'On') this.opts.onPower?.(state.id, true);
  }

  private powerOn(state: SimulatedSystemState): void {
    state.powerState = 'PoweringOn';
    this.later(() => {
      this.setPower(state, 'On');
      // A one-time override is consumed by the boot it applies to.
      if (state.bootOverrideEnabled !== 'Disabled') state.lastBootSource = state.bootOverrideTarget;
      else state.lastBootSource = 'Hdd';
      if (state.bootOverrideEnabled === 'Once') {
        state.bootOverrideEnabled = 'Disabled';
        state.bootOverrideTarget = 'None';
      }
    });
  }

  private reset(id: string, raw: string): SimResponse {
    const state = this.systems.find((s) => s.id === id);
    if (!state) return redfishError(404, 'ResourceMissingAtURI', `No system ${id}`);
    let resetType: unknown;
    try {
      resetType = (JSON.parse(raw) as Json).ResetType;
    } catch {
      return redfishError(400, 'MalformedJSON', 'The request body submitted was malformed JSON.');
    }
    if (typeof resetType !== 'string' || !this.profile.resetTypes.includes(resetType)) {
      return redfishError(400, 'ActionParameterValueNotInList', `The value ${String(resetType)} for the parameter ResetType is not in the list of acceptable values.`);
    }
    state.resetsReceived.push(resetType);
    const on = state.powerState === 'On' || state.powerState === 'PoweringOn';
    switch (resetType) {
      case 'On':
      case 'ForceOn':
        if (!on) this.powerOn(state);
        break;
      case 'ForceOff':
      case 'Off':
        this.setPower(state, 'Off');
        break;
      case 'GracefulShutdown':
        if (on) {
          state.powerState = 'PoweringOff';
          this.later(() => { this.setPower(state, 'Off'); });
        }
        break;
      case 'PushPowerButton':
        if (on) {
          state.powerState = 'PoweringOff';
          this.later(() => { this.setPower(state, 'Off'); });
        } else this.powerOn(state);
        break;
      case 'ForceRestart':
      case 'GracefulRestart':
      case 'PowerCycle':
        this.setPower(state, 'Off');
        this.powerOn(state);
        break;
      default:
        break;
    }
    return { status: 204 };
  }

  private patchSystem(state: SimulatedSystemState, raw: string): SimResponse {
    let patch: Json;
    try {
      patch = JSON.parse(raw) as Json;
    } catch {
      return redfishError(400, 'MalformedJSON', 'The request body submitted was malformed JSON.');
    }
    const boot = patch.Boot as Json | undefined;
    if (!boot || typeof boot !== 'object') return redfishError(400, 'PropertyNotWritable', 'Only Boot is writable on this system.');
    const { BootSourceOverrideTarget: target, BootSourceOverrideEnabled: enabled, BootSourceOverrideMode: mode } = boot;
    if (target !== undefined && (typeof target !== 'string' || !this.profile.bootTargets.includes(target))) {
      return redfishError(400, 'PropertyValueNotInList', `The value ${String(target)} for the property BootSourceOverrideTarget is not in the list of acceptable values.`);
    }
    if (enabled !== undefined && enabled !== 'Disabled' && enabled !== 'Once' && enabled !== 'Continuous') {
      return redfishError(400, 'PropertyValueNotInList', `The value ${String(enabled)} for the property BootSourceOverrideEnabled is not in the list of acceptable values.`);
    }
    if (mode !== undefined && mode !== 'UEFI' && mode !== 'Legacy') {
      return redfishError(400, 'PropertyValueNotInList', `The value ${String(mode)} for the property BootSourceOverrideMode is not in the list of acceptable values.`);
    }
    if (typeof target === 'string') state.bootOverrideTarget = target;
    if (enabled !== undefined) state.bootOverrideEnabled = enabled;
    if (mode !== undefined) state.bootOverrideMode = mode;
    return { status: 204 };
  }
}
