/**
 * The installable artifact: `npm run build:agent`'s single file runs with plain Node (no tsx, no
 * node_modules next to it): it knows its version, help lists the commands, and `run` serves HTTP
 * from a data dir alone.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAgent } from '../../../onprem-agent/deploy/build.js';
import { firstBootScript } from '../../support/agentBootScript.js';
import { freeTcpPort } from '../../support/ports.js';

const run = promisify(execFile);

describe('agent bundle (dist/skyboot-agent.mjs)', () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-bundle-'));
    bundle = (await buildAgent(join(dir, 'skyboot-agent.mjs'))).outfile;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs from a directory without node_modules', async () => {
    // No package.json next to an installed bundle: the version is inlined at build time.
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    expect((await run(process.execPath, [bundle, '--version'], { cwd: dir })).stdout.trim()).toBe(version);
    const help = await run(process.execPath, [bundle, '--help'], { cwd: dir });
    for (const cmd of ['run', 'status', 'discover', 'export']) expect(help.stdout).toContain(cmd);

    const port = await freeTcpPort();
    const agent = spawn(process.execPath, [bundle, 'run', '--data-dir', join(dir, 'data'), '--http', `127.0.0.1:${port}`], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'test' } });
    const exited = new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
    try {
      const body = await firstBootScript(port);
      expect(body).toContain('no snapshot yet');
      const status = JSON.parse((await run(process.execPath, [bundle, 'status', '--http', `127.0.0.1:${port}`, '--json'], { cwd: dir })).stdout);
      expect(status.cloud).toMatchObject({ configured: false });
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
