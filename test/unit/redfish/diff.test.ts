import { diffReports } from '../../../onprem-agent/redfish/diff.js';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { startSimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { fleetCredentials, targetsOf } from '../../integration/redfish/support.js';

describe('changes between discovery reports', () => {
  let base: DiscoveryReport;
  beforeAll(async () => {
    const fleet = await startSimulatedFleet({ count: 3, vendors: ['dmtf', 'cray', 'ami'] });
    try {
      base = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    } finally {
      await fleet.close();
    }
  });

  test('the same report has no changes', () => {
    expect(diffReports(base, structuredClone(base))).toEqual({ added: [], removed: [], modified: [], macsAdded: [], macsRemoved: [] });
  });

  test('a BMC that did not answer is not removed; a node missing from an answering BMC is', () => {
    const next = structuredClone(base);
    const silent = next.redfishEndpoints.find((e) => e.systems.length === 2)!;
    next.redfishEndpoints = next.redfishEndpoints.filter((e) => e !== silent);
    next.hardware = next.hardware.filter((h) => h.bmcXName !== silent.xname);
    next.interfaces = next.interfaces.filter((i) => !i.ownerXName.startsWith(silent.xname));
    next.unreachable = [{ host: silent.host, port: silent.port, stage: 'tcp', reason: 'refused' }];
    const gone = next.hardware.pop()!;
    const c = diffReports(base, next);
    expect(c.removed).toEqual([gone.xname]);
    expect(c.added).toEqual([]);
  });

  test('changed firmware, power state and MACs are named', () => {
    const next = structuredClone(base);
    next.redfishEndpoints[0]!.managers[0]!.firmwareVersion = '9.9.9';
    next.hardware[1]!.powerState = 'Off';
    const nic = next.interfaces.find((i) => i.ownerType === 'Node')!;
    const oldMac = nic.mac;
    nic.mac = '02:00:00:00:00:01';
    const c = diffReports(base, next);
    expect(c.modified).toEqual(expect.arrayContaining([
      { xname: next.redfishEndpoints[0]!.xname, fields: ['firmware'] },
      expect.objectContaining({ xname: next.hardware[1]!.xname, fields: expect.arrayContaining(['powerState']) }),
    ]));
    expect(c.macsAdded).toEqual(['02:00:00:00:00:01']);
    expect(c.macsRemoved).toEqual([oldMac]);
  });
});
