/**
 * The CLI as an operator runs it: `skyboot-agent run` with flags against a gateway, `status`
 * from the running agent's /status, SIGTERM for a clean stop, then `status` from the data dir.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort } from '../../support/ports.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';

const BIN = join(process.cwd(), 'bin/skyboot-agent.js');
const run = promisify(execFile);

describe('skyboot-agent run / status', () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let dir: string;
  beforeAll(async () => {
    cloud = await startTestCloud();
    fx = await siteFixture(cloud.gw, 'cli');
    dir = mkdtempSync(join(tmpdir(), 'skyboot-cli-'));
    writeFileSync(join(dir, 'client.secret'), fx.agentClient.clientSecret, { mode: 0o600 });
  });
  afterAll(async () => {
    await cloud.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs, reports status, stops on SIGTERM, and status then reads the data dir', async () => {
    const port = await freeTcpPort();
    const config = join(dir, 'config.json');
    // The client-credentials keys as `skyboot site create` prints them.
    writeFileSync(config, JSON.stringify({ cloud: cloud.gw.url, tokenEndpoint: fx.agentClient.tokenEndpoint, clientId: fx.agentClient.clientId, clientSecretFile: join(dir, 'client.secret'), scope: fx.agentClient.scopes.join(' '), dhcp: 'off', syncInterval: 1 }));
    const data = join(dir, 'data');
    const agent = spawn(process.execPath, [BIN, 'run', '--config', config, '--data-dir', data, '--http', `127.0.0.1:${port}`], { env: { ...process.env, NODE_ENV: 'test' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    agent.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((r) => agent.on('exit', (code) => r(code)));
    try {
      let status: { cloud: { up: boolean }; snapshot: { revision: number | null }; cache: { entries: number } } | undefined;
      for (let i = 0; i < 150; i++) {
        const out = await run(process.execPath, [BIN, 'status', '--http', `127.0.0.1:${port}`, '--data-dir', data, '--json']).catch(() => null);
        status = out ? JSON.parse(out.stdout) : undefined;
        if (status?.cloud?.up && status.snapshot.revision === 1 && status.cache.entries === 2) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toMatchObject({ cloud: { up: true }, snapshot: { revision: 1 }, cache: { entries: 2 } });
      expect(stderr).toContain(`HTTP http://127.0.0.1:${port}`);
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    const offline = JSON.parse((await run(process.execPath, [BIN, 'status', '--http', `127.0.0.1:${port}`, '--data-dir', data, '--json'])).stdout);
    expect(offline).toMatchObject({ agent: { running: false }, snapshot: { revision: 1, nodes: 2 }, cache: { entries: 2 }, outbox: { depth: 0 } });
  });

  it('refuses a bad configuration naming the key', async () => {
    const r = await run(process.execPath, [BIN, 'run', '--dhcp', 'proxy', '--data-dir', join(dir, 'x'), '--http', '127.0.0.1:0']).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 2 });
    expect((r as { stderr: string }).stderr).toContain('dhcpInterface: --dhcp proxy needs --dhcp-interface');
  });
});
