/**
 * The discovery report in the shape of the `reportDiscovery(input: DiscoveryReportInput!)`
 * mutation (schema/10-inventory.graphql), which is what the outbox delivers.
 */
import type { DiscoveryReport, InventoryEndpointMap, NodeHardware } from './types.js';

export const REPORT_DISCOVERY_KIND = 'inventory.reportDiscovery';

export interface DiscoveredEndpointInput {
  xname: string;
  address: string;
  discoveryStatus: 'OK' | 'FAILED';
  error?: string;
}

export interface HardwareInventoryInput {
  manufacturer?: string;
  model?: string;
  serialNumber?: string;
  partNumber?: string;
  processors: Array<{ socket?: string; manufacturer?: string; model?: string; architecture?: string; cores?: number; threads?: number }>;
  memory: Array<{ slot?: string; capacityMiB?: number; memoryType?: string; speedMHz?: number; manufacturer?: string; serialNumber?: string }>;
  accelerators: Array<{ slot?: string; manufacturer?: string; model?: string; serialNumber?: string }>;
  nics: Array<{ name?: string; macAddresses: string[] }>;
  firmware: Array<{ name: string; version: string }>;
}

export interface DiscoveredComponentInput {
  xname: string;
  state?: 'ON' | 'OFF' | 'POPULATED' | 'READY';
  arch?: 'X86' | 'ARM' | 'OTHER';
  interfaces?: Array<{ mac: string; description?: string }>;
  hardware?: HardwareInventoryInput;
}

export interface DiscoveryReportInput {
  idempotencyKey: string;
  endpoints: DiscoveredEndpointInput[];
  components: DiscoveredComponentInput[];
}

/** Drops null and undefined fields: the inventory treats an absent field as unknown. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as T;
}

function arch(h: NodeHardware): DiscoveredComponentInput['arch'] {
  const text = h.processors.filter((p) => p.type !== 'GPU').map((p) => `${p.manufacturer ?? ''} ${p.model ?? ''}`).join(' ');
  if (/\b(intel|amd|epyc|xeon)\b/i.test(text)) return 'X86';
  if (/\b(arm|ampere|neoverse|grace|a64fx)\b/i.test(text)) return 'ARM';
  return text.trim() ? 'OTHER' : undefined;
}

/**
 * `knownEndpoints` lets a BMC the inventory already has, and that did not answer, be reported as
 * FAILED with the reason; an unknown address that did not answer is not an endpoint at all.
 */
export function toDiscoveryReportInput(report: DiscoveryReport, idempotencyKey: string, knownEndpoints: InventoryEndpointMap = {}): DiscoveryReportInput {
  const endpoints: DiscoveredEndpointInput[] = report.redfishEndpoints.map((e) => ({ xname: e.xname, address: `${e.host}:${e.port}`, discoveryStatus: 'OK' }));
  for (const u of report.unreachable) {
    const x = knownEndpoints[`${u.host}:${u.port}`] ?? knownEndpoints[u.host];
    if (x) endpoints.push({ xname: x, address: `${u.host}:${u.port}`, discoveryStatus: 'FAILED', error: `${u.stage}: ${u.reason}`.slice(0, 2048) });
  }
  const macsByOwner = new Map<string, DiscoveryReport['interfaces']>();
  for (const i of report.interfaces) macsByOwner.set(i.ownerXName, [...(macsByOwner.get(i.ownerXName) ?? []), i]);
  const components: DiscoveredComponentInput[] = [];
  const endpointsByX = new Map(report.redfishEndpoints.map((e) => [e.xname, e]));
  for (const e of report.redfishEndpoints) {
    components.push(compact({
      xname: e.xname, state: 'READY' as const,
      interfaces: (macsByOwner.get(e.xname) ?? []).map((i) => compact({ mac: i.mac, description: i.name ?? undefined })),
    }));
  }
  for (const h of report.hardware) {
    const nics = macsByOwner.get(h.xname) ?? [];
    const endpoint = endpointsByX.get(h.bmcXName);
    components.push(compact({
      xname: h.xname,
      state: h.powerState === 'On' ? 'ON' as const : h.powerState === 'Off' ? 'OFF' as const : 'POPULATED' as const,
      arch: arch(h),
      interfaces: nics.map((i) => compact({ mac: i.mac, description: i.name ?? undefined })),
      hardware: compact({
        manufacturer: h.manufacturer ?? undefined, model: h.model ?? undefined, serialNumber: h.serial ?? undefined,
        partNumber: h.chassis[0]?.partNumber ?? undefined,
        processors: h.processors.filter((p) => p.type !== 'GPU').map((p) => compact({
          socket: p.id, manufacturer: p.manufacturer ?? undefined, model: p.model ?? undefined, cores: p.cores ?? undefined, threads: p.threads ?? undefined,
        })),
        memory: h.memory.map((m) => compact({
          slot: m.id, capacityMiB: m.capacityMiB ?? undefined, memoryType: m.type ?? undefined, speedMHz: m.speedMHz ?? undefined,
          manufacturer: m.manufacturer ?? undefined, serialNumber: m.serial ?? undefined,
        })),
        accelerators: h.gpus.map((g) => {
          const dev = h.pcieDevices.find((d) => d.id === g.id);
          return compact({ slot: g.id, model: g.model ?? undefined, manufacturer: dev?.manufacturer ?? undefined, serialNumber: dev?.serial ?? undefined });
        }),
        nics: nics.map((i) => compact({ name: i.name ?? undefined, macAddresses: [i.mac] })),
        firmware: [
          ...(h.biosVersion ? [{ name: 'BIOS', version: h.biosVersion }] : []),
          ...(endpoint?.managers ?? []).filter((m) => m.firmwareVersion).map((m) => ({ name: `BMC ${m.id}`, version: m.firmwareVersion! })),
        ],
      }),
    }));
  }
  return { idempotencyKey, endpoints, components };
}
