/** Power actions and one-time PXE boot against simulated BMCs, confirmed by reading state back. */
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { endpointMapFromReport, loadEndpointMap, powerAction, type EndpointMap } from '../../../onprem-agent/redfish/power.js';
import { saveLastReport } from '../../../onprem-agent/redfish/report-store.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { fleetCredentials, targetsOf, tempDir } from './support.js';

describe('power and boot through Redfish', () => {
  let fleet: SimulatedFleet;
  let report: DiscoveryReport;
  let endpoints: EndpointMap;
  const node = (vendor: string, n = 0): { xname: string; bmc: number; systemId: string } => {
    const b = fleet.bmcs.find((x) => x.vendor === vendor)!;
    const ep = report.redfishEndpoints.find((e) => e.port === b.port)!;
    return { xname: ep.systems[n]!.xname, bmc: b.index, systemId: b.systems[n]! };
  };
  const opts = (): Parameters<typeof powerAction>[2] => ({ endpoints, credentials: fleetCredentials(fleet), confirmTimeoutMs: 5000, pollMs: 25, timeoutMs: 3000 });

  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 4, vendors: ['dmtf', 'ami', 'cray', 'intel'], powerTransitionMs: 100 });
    report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    endpoints = endpointMapFromReport(report);
  });
  afterAll(async () => fleet.close());

  test('off, then on, change the state and are confirmed', async () => {
    const n = node('dmtf');
    const off = await powerAction([n.xname], 'off', opts());
    expect(off[0]).toMatchObject({ ok: true, powerState: 'Off', resetTypes: ['ForceOff'] });
    expect(fleet.system(n.bmc, n.systemId).powerState).toBe('Off');
    const on = await powerAction([n.xname], 'on', opts());
    expect(on[0]).toMatchObject({ ok: true, powerState: 'On', resetTypes: ['On'] });
    expect(fleet.system(n.bmc, n.systemId).powerState).toBe('On');
    const status = await powerAction([n.xname], 'status', opts());
    expect(status[0]).toMatchObject({ ok: true, powerState: 'On', resetTypes: [] });
  });

  test('soft-off uses GracefulShutdown where advertised and waits for Off', async () => {
    const n = node('intel');
    const r = await powerAction([n.xname], 'soft-off', opts());
    expect(r[0]).toMatchObject({ ok: true, powerState: 'Off', resetTypes: ['GracefulShutdown'] });
    await powerAction([n.xname], 'on', opts());
  });

  test('cycle is PowerCycle where advertised; ForceOff then On where not (blade vendor via ActionInfo)', async () => {
    const rack = node('dmtf');
    const blade0 = node('cray', 0);
    const blade1 = node('cray', 1);
    const results = await powerAction([rack.xname, blade0.xname, blade1.xname], 'cycle', opts());
    expect(results.map((r) => r.ok)).toEqual([true, true, true]);
    expect(results[0]!.resetTypes).toEqual(['PowerCycle']);
    expect(results[1]!.resetTypes).toEqual(['ForceOff', 'On']);
    expect(fleet.system(blade1.bmc, blade1.systemId).resetsReceived.slice(-2)).toEqual(['ForceOff', 'On']);
    for (const r of results) expect(r.powerState).toBe('On');
  });

  test('reset uses a restart type the BMC offers', async () => {
    const n = node('ami');
    const r = await powerAction([n.xname], 'reset', opts());
    expect(r[0]).toMatchObject({ ok: true, powerState: 'On', resetTypes: ['ForceRestart'] });
  });

  test('one-time PXE boot is set (UEFI where UEFI), read back, and consumed by the next boot', async () => {
    const uefi = node('dmtf');
    const legacy = node('ami');
    const r = await powerAction([uefi.xname, legacy.xname], 'boot-pxe', opts());
    expect(r.map((x) => x.ok)).toEqual([true, true]);
    expect(fleet.system(uefi.bmc, uefi.systemId)).toMatchObject({ bootOverrideTarget: 'Pxe', bootOverrideEnabled: 'Once', bootOverrideMode: 'UEFI' });
    expect(fleet.system(legacy.bmc, legacy.systemId)).toMatchObject({ bootOverrideTarget: 'Pxe', bootOverrideEnabled: 'Once', bootOverrideMode: 'Legacy' });
    await powerAction([uefi.xname], 'cycle', opts());
    expect(fleet.system(uefi.bmc, uefi.systemId)).toMatchObject({ lastBootSource: 'Pxe', bootOverrideEnabled: 'Disabled' });
  });

  test('failures are named per node and do not stop the others', async () => {
    const good = node('intel');
    const r = await powerAction([good.xname, 'x9c0s0b0n0', 'not-an-xname'], 'status', opts());
    expect(r[0]).toMatchObject({ xname: good.xname, ok: true });
    expect(r[1]).toMatchObject({ xname: 'x9c0s0b0n0', ok: false });
    expect(r[1]!.error).toMatch(/not a node in the last discovery report/);
    expect(r[2]!.ok).toBe(false);
    expect(r[2]!.error).toMatch(/not an xname/);
  });

  test('a node whose BMC has gone away fails with the BMC named', async () => {
    const lonely = await startSimulatedFleet({ count: 1, vendors: ['dmtf'] });
    const rep = await discover({ targets: targetsOf(lonely), credentials: fleetCredentials(lonely) });
    await lonely.close();
    const x = rep.hardware[0]!.xname;
    const r = await powerAction([x], 'on', { endpoints: endpointMapFromReport(rep), credentials: fleetCredentials(fleet), timeoutMs: 1000 });
    expect(r[0]!.ok).toBe(false);
    expect(r[0]!.error).toContain(rep.redfishEndpoints[0]!.xname);
  });

  test('loadEndpointMap reads the last report from the data dir', async () => {
    const dir = tempDir('skyboot-power-');
    try {
      await expect(loadEndpointMap(dir.path)).rejects.toThrow(/run skyboot-agent discover first/);
      await saveLastReport(dir.path, report);
      const map = await loadEndpointMap(dir.path);
      const n = node('cray', 1);
      expect(map.get(n.xname)).toMatchObject({ systemPath: `/redfish/v1/Systems/${n.systemId}`, port: fleet.bmcs[n.bmc]!.port, resetTypes: ['ForceOff', 'On', 'Off', 'ForceRestart'] });
      const r = await powerAction([n.xname], 'status', { dataDir: dir.path, credentials: fleetCredentials(fleet) });
      expect(r[0]!.ok).toBe(true);
    } finally {
      dir.remove();
    }
  });
});
