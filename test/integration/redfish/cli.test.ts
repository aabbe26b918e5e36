/**
 * The agent's CLI end to end against a simulated fleet: discover (dry run and for real), the
 * interim report files, re-discovery changes, and power through the stored report.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { agentCli as cli, tempDir } from './support.js';

describe('skyboot-agent discover / power / boot-pxe', () => {
  let fleet: SimulatedFleet;
  const dir = tempDir('skyboot-cli-');
  const ranges = (): string[] => fleet.bmcs.flatMap((b) => ['--range', `http://${b.host}:${b.port}`]);

  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 3, vendors: ['dmtf', 'cray'], password: 'Cli-Secret-9', powerTransitionMs: 50 });
  });
  afterAll(async () => {
    await fleet.close();
    dir.remove();
  });

  test('--dry-run --json prints the report and stores nothing; credentials from the environment', async () => {
    const r = await cli(['discover', ...ranges(), '--dry-run', '--json', '--data-dir', dir.path], { SKYBOOT_BMC_USERNAME: fleet.username, SKYBOOT_BMC_PASSWORD: fleet.password });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as DiscoveryReport;
    expect(report.redfishEndpoints).toHaveLength(3);
    expect(report.hardware).toHaveLength(4);
    expect(r.stdout).not.toContain('Cli-Secret-9');
    expect(existsSync(join(dir.path, 'discovery'))).toBe(false);
  });

  test('a real run stores credentials encrypted, writes the report to the data dir and says it was not sent', async () => {
    const creds = join(dir.path, 'creds.yaml');
    writeFileSync(creds, `- match: "127.0.0.0/8"\n  username: ${fleet.username}\n  password: ${fleet.password}\n`);
    const r = await cli(['discover', ...ranges(), '--credentials', creds, '--data-dir', dir.path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 BMCs, 4 nodes/);
    expect(r.stderr).toMatch(/NOT sent to the cloud/);
    const files = readdirSync(join(dir.path, 'discovery'));
    expect(files).toContain('last-report.json');
    const queued = files.find((f) => f.startsWith('redfish-discovery-'))!;
    const payload = JSON.parse(readFileSync(join(dir.path, 'discovery', queued), 'utf8')) as { kind: string; payload: { components: unknown[]; endpoints: unknown[] } };
    expect(payload.kind).toBe('inventory.reportDiscovery');
    expect(payload.payload.endpoints).toHaveLength(3);
    expect(payload.payload.components).toHaveLength(7);
    expect(readFileSync(join(dir.path, 'redfish', 'credentials.enc'), 'utf8')).not.toContain('Cli-Secret-9');
    expect(statSync(join(dir.path, 'redfish', 'credentials.key')).mode & 0o777).toBe(0o600);
  });

  test('power and boot-pxe use the stored report and credentials; re-discovery records what changed', async () => {
    const report = JSON.parse(readFileSync(join(dir.path, 'discovery', 'last-report.json'), 'utf8')) as DiscoveryReport;
    const x = report.hardware.map((h) => h.xname);
    const off = await cli(['power', 'off', x[0]!, '--json', '--data-dir', dir.path]);
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)).toEqual([expect.objectContaining({ xname: x[0], ok: true, powerState: 'Off' })]);
    const pxe = await cli(['boot-pxe', ...x, 'x1c0s0b0n0', '--data-dir', dir.path]);
    expect(pxe.code).toBe(1);
    expect(pxe.stdout).toMatch(/x1c0s0b0n0: FAILED: x1c0s0b0n0 is not a node in the last discovery report/);
    expect(pxe.stdout.match(/one-time PXE boot set/g)).toHaveLength(4);

    const again = await cli(['discover', ...ranges(), '--json', '--data-dir', dir.path]);
    const changes = (JSON.parse(again.stdout) as DiscoveryReport).changes!;
    expect(changes.added).toEqual([]);
    expect(changes.removed).toEqual([]);
    expect(changes.modified).toEqual([{ xname: x[0], fields: ['powerState'] }]);
  });

  test('bad input is refused with the field named and exit code 2', async () => {
    const r = await cli(['discover', '--range', '10.0.0.0/33', '--data-dir', dir.path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/range: "10\.0\.0\.0\/33" is not a CIDR block/);
  });
});
