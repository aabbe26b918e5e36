/**
 * One data dir for every `skyboot-agent` subcommand: the same default, SKYBOOT_AGENT_DATA_DIR and
 * the config file's dataDir reach run's siblings (discover, power, boot-pxe, status, export), and
 * `status` says what it tried when no agent answers. Also: `--timeout` is in seconds as its help
 * says, and an error names its field once.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../../../onprem-agent/config.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { freeTcpPort } from '../../support/ports.js';
import { agentCli as cli, tempDir } from '../redfish/support.js';

// Empty values count as unset (config.ts), so the runner's own environment cannot leak in.
const NO_ENV = { SKYBOOT_AGENT_DATA_DIR: '', SKYBOOT_AGENT_CONFIG: '' };
const flat = (s: string): string => s.replace(/\s+/g, ' ');

describe('skyboot-agent: one data dir for every subcommand', () => {
  let fleet: SimulatedFleet;
  const dir = tempDir('skyboot-datadir-');
  beforeAll(async () => {
    fleet = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], password: 'Dir-Secret-1' });
  });
  afterAll(async () => {
    await fleet.close();
    dir.remove();
  });
  const bmcEnv = (): Record<string, string> => ({ SKYBOOT_BMC_USERNAME: fleet.username, SKYBOOT_BMC_PASSWORD: fleet.password });
  const range = (): string[] => ['--range', `http://${fleet.bmcs[0]!.host}:${fleet.bmcs[0]!.port}`];

  test('every command with --data-dir names the same default and the same precedence', async () => {
    for (const cmd of [['run'], ['status'], ['discover'], ['power'], ['boot-pxe'], ['export', 'list'], ['export', 'reconcile']]) {
      const help = flat((await cli([...cmd, '--help'])).stdout);
      expect({ cmd, says: help.includes(`(default: $SKYBOOT_AGENT_DATA_DIR, else the config file's dataDir, else ${DEFAULT_DATA_DIR})`) }).toEqual({ cmd, says: true });
    }
  });

  test('status with nothing set tries the default data dir and says which URL and dir it tried', async () => {
    const port = await freeTcpPort();
    const r = await cli(['status', '--http', `127.0.0.1:${port}`, '--json'], NO_ENV);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ agent: { running: false, dataDir: DEFAULT_DATA_DIR, tried: `http://127.0.0.1:${port}/status` } });
    expect(r.stderr).toContain(`skyboot-agent: no agent answered at http://127.0.0.1:${port}/status (`);
    expect(r.stderr).toContain(`showing data dir ${DEFAULT_DATA_DIR}`);
  });

  test('SKYBOOT_AGENT_DATA_DIR reaches discover, power, status and export', async () => {
    const data = join(dir.path, 'from-env');
    const env = { ...NO_ENV, ...bmcEnv(), SKYBOOT_AGENT_DATA_DIR: data };
    const found = await cli(['discover', ...range(), '--json'], env);
    expect(found.code).toBe(0);
    expect(existsSync(join(data, 'discovery', 'last-report.json'))).toBe(true);
    const node = (JSON.parse(found.stdout) as DiscoveryReport).hardware[0]!.xname;

    const power = await cli(['power', 'status', node, '--json'], env);
    expect({ code: power.code, results: JSON.parse(power.stdout) }).toEqual({ code: 0, results: [expect.objectContaining({ xname: node, ok: true })] });

    const status = await cli(['status', '--http', `127.0.0.1:${await freeTcpPort()}`, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ agent: { running: false, dataDir: data }, discovery: { map: { bmcs: 1 } } });

    const exports = await cli(['export', 'reconcile', '--iscsi', 'tgt', '--dry-run'], env);
    expect(exports).toMatchObject({ code: 2, stderr: expect.stringContaining(`no snapshot in ${data} yet`) });
  });

  test("the config file's dataDir reaches discover and power; a flag beats it", async () => {
    const data = join(dir.path, 'from-file');
    const config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify({ dataDir: data, http: '127.0.0.1:1' }));
    const found = await cli(['discover', ...range(), '--config', config, '--json'], { ...NO_ENV, ...bmcEnv() });
    expect(found.code).toBe(0);
    expect(existsSync(join(data, 'discovery', 'last-report.json'))).toBe(true);
    const node = (JSON.parse(found.stdout) as DiscoveryReport).hardware[0]!.xname;
    expect((await cli(['boot-pxe', node, '--json'], { ...NO_ENV, SKYBOOT_AGENT_CONFIG: config })).code).toBe(0);

    const other = join(dir.path, 'flag');
    const missed = await cli(['power', 'status', node, '--config', config, '--data-dir', other, '--json'], NO_ENV);
    expect(missed).toMatchObject({ code: 2, stderr: expect.stringContaining(`no discovery report at ${join(other, 'discovery', 'last-report.json')}`) });
  });
});

describe('skyboot-agent: units and messages', () => {
  let silent: Server;
  const held: Socket[] = [];
  beforeAll(async () => {
    // Accepts and never answers: only the per-request timeout ends a request to it.
    silent = createServer((s) => held.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    held.forEach((s) => s.destroy());
    await new Promise((r) => silent.close(r));
  });

  test('--timeout is in seconds, as its help says, and the help shows the default in seconds', async () => {
    expect(flat((await cli(['discover', '--help'])).stdout)).toContain('--timeout <seconds> per-request timeout, in seconds (default: 10)');
    expect(flat((await cli(['power', '--help'])).stdout)).toContain('--confirm-timeout <seconds> how long to wait for the power state to confirm, in seconds (default: 120)');
    const port = (silent.address() as { port: number }).port;
    const dir = tempDir('skyboot-timeout-');
    try {
      const started = Date.now();
      const r = await cli(['discover', '--range', `http://127.0.0.1:${port}`, '--timeout', '0.4', '--dry-run', '--json', '--data-dir', dir.path]);
      const took = Date.now() - started;
      expect(r.code).toBe(0);
      expect((JSON.parse(r.stdout) as DiscoveryReport).unreachable).toEqual([expect.objectContaining({ host: '127.0.0.1', port, reason: expect.stringContaining('got no answer within 0.4s') })]);
      // 0.4 s per request (a few retries at most), far from 0.4 ms or the 10 s default.
      expect(took).toBeLessThan(8000);
    } finally {
      dir.remove();
    }
  });

  test('a configuration error names its field once', async () => {
    const r = await cli(['run', '--dhcp', 'proxy', '--http', '127.0.0.1:0', '--data-dir', '/nonexistent/skyboot']);
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 2, stderr: 'skyboot-agent: dhcpInterface: --dhcp proxy needs --dhcp-interface (the boot NIC replies leave from) or --dhcp-address (an address of it)' });
  });
});
