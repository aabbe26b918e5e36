/**
 * Power actions whose answer never arrives: the simulated BMC resets the connection instead of
 * answering, after carrying the action out or before. An action is never sent again blindly;
 * the state read back decides. Reads are still retried on a reset connection.
 */
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { endpointMapFromReport, powerAction, type EndpointMap } from '../../../onprem-agent/redfish/power.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { capturedLogger, fleetCredentials, targetsOf } from './support.js';

describe('Redfish actions whose answer is lost', () => {
  let fleet: SimulatedFleet;
  let report: DiscoveryReport;
  let endpoints: EndpointMap;
  const node = (vendor: string): { xname: string; bmc: number; systemId: string } => {
    const b = fleet.bmcs.find((x) => x.vendor === vendor)!;
    const ep = report.redfishEndpoints.find((e) => e.port === b.port)!;
    return { xname: ep.systems[0]!.xname, bmc: b.index, systemId: b.systems[0]! };
  };
  const opts = (logger = capturedLogger().logger): Parameters<typeof powerAction>[2] => ({ endpoints, credentials: fleetCredentials(fleet), confirmTimeoutMs: 3000, pollMs: 25, timeoutMs: 3000, logger });
  const received = (n: { bmc: number; systemId: string }): string[] => [...fleet.system(n.bmc, n.systemId).resetsReceived];

  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf', 'ami'], powerTransitionMs: 100, recordRequests: true });
    report = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    endpoints = endpointMapFromReport(report);
  });
  afterAll(async () => fleet.close());

  test('a cycle carried out before the connection dropped is not sent again, and is confirmed', async () => {
    const n = node('dmtf');
    const before = received(n).length;
    const { logger, text } = capturedLogger();
    fleet.dropAnswers(n.bmc, { method: 'POST', pathEndsWith: 'ComputerSystem.Reset', count: 1, applied: true });
    const [r] = await powerAction([n.xname], 'cycle', opts(logger));
    expect(r).toMatchObject({ ok: true, powerState: 'On', resetTypes: ['PowerCycle'] });
    // Exactly one PowerCycle reached the BMC: a blind retry would have cycled the node twice.
    expect(received(n).slice(before)).toEqual(['PowerCycle']);
    expect(text()).toContain('restart under way');
  });

  test('a restart whose answer is lost with the node still On fails as unknown, and is not resent', async () => {
    const n = node('ami');
    const before = received(n).length;
    fleet.dropAnswers(n.bmc, { method: 'POST', pathEndsWith: 'ComputerSystem.Reset', count: 1, applied: false });
    const [r] = await powerAction([n.xname], 'reset', opts());
    expect(r!.ok).toBe(false);
    expect(r!.error).toMatch(/ForceRestart.*got no answer.*not resent; check with STATUS/);
    expect(received(n).slice(before)).toEqual([]);
    const posts = fleet.requestLog().filter((q) => q.bmc === n.bmc && q.method === 'POST' && q.path.endsWith('ComputerSystem.Reset'));
    expect(posts.at(-1)!.status).toBe(0); // the dropped one was the last reset POST: none followed it
  });

  test('an off whose POST never landed is sent once more (ForceOff names its end state) and confirmed', async () => {
    const n = node('dmtf');
    const before = received(n).length;
    fleet.dropAnswers(n.bmc, { method: 'POST', pathEndsWith: 'ComputerSystem.Reset', count: 1, applied: false });
    const [r] = await powerAction([n.xname], 'off', opts());
    expect(r).toMatchObject({ ok: true, powerState: 'Off', resetTypes: ['ForceOff', 'ForceOff'] });
    expect(received(n).slice(before)).toEqual(['ForceOff']);
  });

  test('an on carried out before the drop is confirmed from the state read back, not resent', async () => {
    const n = node('dmtf');
    expect(fleet.system(n.bmc, n.systemId).powerState).toBe('Off');
    const before = received(n).length;
    fleet.dropAnswers(n.bmc, { method: 'POST', pathEndsWith: 'ComputerSystem.Reset', count: 1, applied: true });
    const [r] = await powerAction([n.xname], 'on', opts());
    expect(r).toMatchObject({ ok: true, powerState: 'On', resetTypes: ['On'] });
    expect(received(n).slice(before)).toEqual(['On']);
  });

  test('a one-time PXE override whose answer is lost is read back, and set again only if it did not land', async () => {
    const n = node('dmtf');
    fleet.dropAnswers(n.bmc, { method: 'PATCH', count: 1, applied: false });
    const [r] = await powerAction([n.xname], 'boot-pxe', opts());
    expect(r).toMatchObject({ ok: true, bootOverride: 'Pxe/Once/UEFI' });
    const patches = fleet.requestLog().filter((q) => q.bmc === n.bmc && q.method === 'PATCH');
    expect(patches.slice(-2).map((q) => q.status)).toEqual([0, 204]);
    fleet.dropAnswers(n.bmc, { method: 'PATCH', count: 1, applied: true });
    const [again] = await powerAction([n.xname], 'boot-pxe', opts());
    expect(again).toMatchObject({ ok: true, bootOverride: 'Pxe/Once/UEFI' });
    expect(fleet.requestLog().filter((q) => q.bmc === n.bmc && q.method === 'PATCH').at(-1)!.status).toBe(0);
  });

  test('a read whose connection dropped is simply retried', async () => {
    const n = node('ami');
    fleet.dropAnswers(n.bmc, { method: 'GET', count: 1, applied: true });
    const [r] = await powerAction([n.xname], 'status', opts());
    expect(r).toMatchObject({ ok: true, powerState: 'On' });
  });
});
