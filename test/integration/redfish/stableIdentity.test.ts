/**
 * Discovered names follow the hardware, not the address: the simulated fleet restarted on other
 * ports (same BMCs: same seed) keeps every BMC and node xname, with or without the last report,
 * and a BMC that moves to the address another BMC had does not take its name.
 */
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { bmcIdentityKey } from '../../../onprem-agent/redfish/identity.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { fleetCredentials, targetsOf } from './support.js';

const names = (r: DiscoveryReport): Record<string, string[]> =>
  Object.fromEntries(r.redfishEndpoints.map((e) => [e.identity ?? 'none', [e.xname, ...e.systems.map((s) => s.xname)]]));

describe('stable BMC identity across address changes', () => {
  let fleets: SimulatedFleet[] = [];
  afterEach(async () => {
    await Promise.all(fleets.map((f) => f.close()));
    fleets = [];
  });

  test('a fleet restarted on other ports keeps every xname, and each BMC is named by its service UUID', async () => {
    const first = await startSimulatedFleet({ count: 4, seed: 'stable' });
    fleets.push(first);
    const before = await discover({ targets: targetsOf(first), credentials: fleetCredentials(first) });
    expect(before.redfishEndpoints).toHaveLength(4);
    for (const e of before.redfishEndpoints) expect(e.identity).toBe(`uuid:${e.uuid!.toLowerCase()}`);
    const ports = first.bmcs.map((b) => b.port);
    await first.close();
    fleets = [];

    const again = await startSimulatedFleet({ count: 4, seed: 'stable' });
    fleets.push(again);
    expect(again.bmcs.map((b) => b.port)).not.toEqual(ports);
    // Without the last report (a fresh data dir): names come from the identity alone.
    const fresh = await discover({ targets: targetsOf(again), credentials: fleetCredentials(again) });
    expect(names(fresh)).toEqual(names(before));
    // With it, the diff sees no BMC added or removed: only the addresses moved.
    const next = await discover({ targets: targetsOf(again), credentials: fleetCredentials(again), previous: before });
    expect(names(next)).toEqual(names(before));
    expect(next.changes).toMatchObject({ added: [], removed: [] });
  });

  test('the name the last report gave a BMC wins over a generated one (reports from before identities: by UUID)', async () => {
    const fleet = await startSimulatedFleet({ count: 2, seed: 'renamed' });
    fleets.push(fleet);
    const now = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    const [a, b] = now.redfishEndpoints;
    // An older report: address-derived names, no identity field, the UUID recorded.
    const old: DiscoveryReport = structuredClone(now);
    old.redfishEndpoints = old.redfishEndpoints.map((e, i) => ({ ...e, identity: undefined, xname: `x3000c0s${i + 1}b0`, systems: e.systems.map((s, n) => ({ ...s, xname: `x3000c0s${i + 1}b0n${n}` })) }));
    const kept = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet), previous: old });
    const byUuid = Object.fromEntries(kept.redfishEndpoints.map((e) => [e.uuid, e.xname]));
    expect(byUuid[a!.uuid!]).toBe(old.redfishEndpoints.find((e) => e.uuid === a!.uuid)!.xname);
    expect(byUuid[b!.uuid!]).toBe(old.redfishEndpoints.find((e) => e.uuid === b!.uuid)!.xname);
    expect(bmcIdentityKey({ uuid: a!.uuid, managers: [], managerNics: [], systems: [] })).toBe(a!.identity);
  });
});
