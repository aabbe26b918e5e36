/**
 * Conformance: discovery against every recorded BMC tree in ../shared/redfish-mockups, checked
 * against expectations computed here by reading the JSON files directly, not through the
 * discovery code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMac, normaliseMac } from '../../../schema/mac.js';
import { CredentialResolver } from '../../../onprem-agent/redfish/credentials.js';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { serveMockup } from './mockupServer.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const MOCKUPS = resolve(repoRoot, '../shared/redfish-mockups');

type Json = Record<string, unknown>;

function load(folder: string, odataId: string): Json | null {
  const rel = odataId.replace(/^\/redfish\/v1\/?/, '').replace(/\/+$/, '');
  const file = join(folder, rel, 'index.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Json) : null;
}

const idOf = (v: unknown): string | null => {
  const id = (v as Json | undefined)?.['@odata.id'];
  return typeof id === 'string' ? id : null;
};

function members(folder: string, collectionId: string | null): Json[] {
  if (!collectionId) return [];
  const c = load(folder, collectionId);
  const list = Array.isArray(c?.Members) ? (c!.Members as unknown[]) : [];
  return list.map((m) => load(folder, idOf(m) ?? '')).filter((m): m is Json => m !== null);
}

interface Expected {
  systems: Map<string, { processors: number; memory: number; macs: string[] }>;
  firmware: Map<string, string | null>;
}

function expectationsFor(folder: string): Expected {
  const root = load(folder, '/redfish/v1/')!;
  const systems = new Map<string, { processors: number; memory: number; macs: string[] }>();
  for (const s of members(folder, idOf(root.Systems))) {
    const macs: string[] = [];
    for (const nic of members(folder, idOf(s.EthernetInterfaces))) {
      const raw = [nic.MACAddress, nic.PermanentMACAddress].find((v) => typeof v === 'string' && isMac(v));
      if (typeof raw === 'string') macs.push(normaliseMac(raw));
    }
    systems.set(String(s['@odata.id']).replace(/\/+$/, ''), {
      processors: members(folder, idOf(s.Processors)).length,
      memory: members(folder, idOf(s.Memory)).length,
      macs,
    });
  }
  const firmware = new Map<string, string | null>();
  for (const m of members(folder, idOf(root.Managers))) {
    firmware.set(String(m['@odata.id']), typeof m.FirmwareVersion === 'string' ? m.FirmwareVersion : null);
  }
  return { systems, firmware };
}

const trees = existsSync(MOCKUPS)
  ? readdirSync(MOCKUPS, { withFileTypes: true }).filter((d) => d.isDirectory() && existsSync(join(MOCKUPS, d.name, 'index.json'))).map((d) => d.name)
  : [];

describe('Redfish discovery conformance against recorded BMC trees', () => {
  test(`the mockups folder is present at ${MOCKUPS} and holds trees`, () => {
    if (!existsSync(MOCKUPS)) throw new Error(`Redfish mockups not found: looked for ${MOCKUPS}`);
    expect(trees.length).toBeGreaterThan(0);
  });

  describe.each(trees.length > 0 ? trees : ['(no trees found)'])('%s', (tree) => {
    const folder = join(MOCKUPS, tree);
    let report: DiscoveryReport;
    let port = 0;
    let expected: Expected;

    beforeAll(async () => {
      if (!existsSync(join(folder, 'index.json'))) throw new Error(`Redfish mockup tree not found: looked for ${join(folder, 'index.json')}`);
      expected = expectationsFor(folder);
      const server = await serveMockup(folder);
      port = server.port;
      try {
        report = await discover({
          targets: [{ host: '127.0.0.1', port, scheme: 'http' }],
          credentials: new CredentialResolver([{ match: '*', username: 'admin', password: 'not-checked-by-a-recording' }], {}),
          concurrency: 4,
          timeoutMs: 5000,
        });
      } finally {
        await server.close();
      }
    });

    test('the BMC is found and every system behind it becomes a node', () => {
      expect(report.unreachable).toEqual([]);
      expect(report.redfishEndpoints).toHaveLength(1);
      expect(report.hardware.map((h) => h.systemPath).sort()).toEqual([...expected.systems.keys()].sort());
      expect(report.components.filter((c) => c.type === 'Node')).toHaveLength(expected.systems.size);
    });

    test('processor and memory counts match the tree', () => {
      for (const [path, exp] of expected.systems) {
        const hw = report.hardware.find((h) => h.systemPath === path)!;
        expect({ path, processors: hw.processors.length, memory: hw.memory.length }).toEqual({ path, processors: exp.processors, memory: exp.memory });
      }
    });

    test('every MAC of a system NIC is reported, owned by that node', () => {
      for (const [path, exp] of expected.systems) {
        const hw = report.hardware.find((h) => h.systemPath === path)!;
        const owned = report.interfaces.filter((i) => i.ownerXName === hw.xname).map((i) => i.mac);
        expect(owned).toEqual(expect.arrayContaining(exp.macs));
      }
    });

    test('manager firmware versions match the tree', () => {
      const got = new Map(report.redfishEndpoints[0]!.managers.map((m) => [m.path, m.firmwareVersion]));
      expect(got).toEqual(expected.firmware);
    });

    test('a read-only recording refuses sessions, so discovery fell back to basic auth', () => {
      expect(report.redfishEndpoints[0]!.authMode).toBe('basic');
    });
  });
});
