/**
 * The stored discovery map (what `power` and the running agent's power runner address BMCs by)
 * through the real CLI: a scan that reaches nothing (a mistyped --range) leaves it untouched and
 * fails saying so; a scan of part of the site keeps the BMCs it did not reach; --prune drops them.
 */
import { readFileSync } from 'node:fs';
import { lastReportPath } from '../../../onprem-agent/redfish/report-store.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { freeTcpPort } from '../../support/ports.js';
import { agentCli as cli, tempDir } from './support.js';

describe('the stored discovery map survives failed and partial scans', () => {
  let fleet: SimulatedFleet;
  const dir = tempDir('skyboot-map-');
  let env: Record<string, string>;
  const range = (i: number): string[] => ['--range', `http://${fleet.bmcs[i]!.host}:${fleet.bmcs[i]!.port}`];
  const stored = (): DiscoveryReport => JSON.parse(readFileSync(lastReportPath(dir.path), 'utf8')) as DiscoveryReport;

  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf'], powerTransitionMs: 50 });
    env = { SKYBOOT_BMC_USERNAME: fleet.username, SKYBOOT_BMC_PASSWORD: fleet.password };
  });
  afterAll(async () => {
    await fleet.close();
    dir.remove();
  });

  test('a mistyped --range reaching nothing fails, keeps the map, and power still works', async () => {
    const good = await cli(['discover', ...range(0), ...range(1), '--data-dir', dir.path], env);
    expect(good.code).toBe(0);
    const before = readFileSync(lastReportPath(dir.path), 'utf8');
    const node = stored().redfishEndpoints[0]!.systems[0]!.xname;
    const closed = await freeTcpPort();
    const typo = await cli(['discover', '--range', `http://127.0.0.1:${closed}`, '--data-dir', dir.path], env);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toMatch(new RegExp(`the scan of http://127\\.0\\.0\\.1:${closed} reached no BMC \\(1 unreachable\\): the last discovery map \\(2 BMCs, .*last-report\\.json\\) is kept, and nothing was sent`));
    expect(readFileSync(lastReportPath(dir.path), 'utf8')).toBe(before);
    const power = await cli(['power', 'status', node, '--data-dir', dir.path, '--json'], {});
    expect(power.code).toBe(0);
    expect(JSON.parse(power.stdout)).toMatchObject([{ xname: node, ok: true, powerState: 'On' }]);
  });

  test('a scan of one BMC keeps the other in the map, as carried over; --prune drops it', async () => {
    const all = stored().redfishEndpoints.map((e) => e.xname).sort();
    const other = stored().redfishEndpoints.find((e) => e.port === fleet.bmcs[1]!.port)!;
    const partial = await cli(['discover', ...range(0), '--data-dir', dir.path], env);
    expect(partial.code).toBe(0);
    expect(partial.stderr).toContain(`kept in the map from an earlier one: ${other.xname}`);
    const map = stored();
    expect(map.redfishEndpoints.map((e) => e.xname).sort()).toEqual(all);
    expect(map.carriedOver).toEqual([{ xname: other.xname, host: other.host, port: other.port, lastSeenAt: expect.any(String) }]);
    expect(map.hardware.map((h) => h.xname)).toContain(other.systems[0]!.xname);
    const power = await cli(['power', 'status', other.systems[0]!.xname, '--data-dir', dir.path, '--json'], {});
    expect(JSON.parse(power.stdout)).toMatchObject([{ ok: true, powerState: 'On' }]);

    const pruned = await cli(['discover', ...range(0), '--prune', '--data-dir', dir.path], env);
    expect(pruned.code).toBe(0);
    expect(pruned.stderr).toContain(`pruned from the map (not reached, --prune): ${other.xname}`);
    expect(stored().redfishEndpoints.map((e) => e.xname)).toEqual([all.find((x) => x !== other.xname)]);
  });
});
