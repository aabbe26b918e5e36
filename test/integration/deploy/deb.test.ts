/**
 * The agent's Debian package, installed for real with dpkg on this host: the unit, the bundle on
 * PATH, the man page and the docs land where the unit and the README say, the shipped default
 * config starts the installed agent, and purge removes everything again.
 *
 * Needs root (dpkg -i) and refuses to run over an existing installation of the package, which
 * it would otherwise replace and purge.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildDeb, DEB_PACKAGE, DEFAULT_AGENT_CONFIG } from '../../../onprem-agent/deploy/deb.js';
import { firstBootScript } from '../../support/agentBootScript.js';
import { freeTcpPort, freeUdpPort } from '../../support/ports.js';

const run = promisify(execFile);
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
const STATE_DIR = '/var/lib/skyboot-agent';
const UNIT = '/lib/systemd/system/skyboot-agent.service';
const INSTALLED = ['/opt/skyboot-agent/skyboot-agent.mjs', '/usr/bin/skyboot-agent', UNIT, '/etc/skyboot-agent/config.json', '/usr/share/doc/skyboot-agent/agent.md', '/usr/share/man/man1/skyboot-agent.1.gz'];

async function installed(): Promise<boolean> {
  return run('dpkg-query', ['-W', '-f=${Status}', DEB_PACKAGE]).then((r) => r.stdout.includes('install ok installed'), () => false);
}

describe('skyboot-agent .deb (dpkg-deb build, dpkg -i, purge)', () => {
  let dir: string;
  let deb: string;
  let weInstalled = false;

  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error(`installing a .deb needs root (dpkg -i); this test runs as uid ${String(process.getuid?.())}`);
    if (await installed()) throw new Error(`${DEB_PACKAGE} is already installed on this host; the test would replace and purge it, so it refuses (dpkg --purge ${DEB_PACKAGE} first)`);
    // Purge removes the state directory: never one this test did not make.
    if (existsSync(STATE_DIR)) throw new Error(`${STATE_DIR} exists on this host (an agent's state); purge would remove it, so the test refuses`);
    dir = mkdtempSync(join(tmpdir(), 'skyboot-deb-test-'));
    deb = (await buildDeb(dir)).file;
  });

  afterAll(async () => {
    if (weInstalled) await run('dpkg', ['--purge', DEB_PACKAGE]).catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('declares what a site needs and ships root-owned files only', async () => {
    const fields = (await run('dpkg-deb', ['--field', deb, 'Package', 'Version', 'Architecture', 'Depends'])).stdout;
    expect(fields).toContain(`Package: ${DEB_PACKAGE}`);
    expect(fields).toContain(`Version: ${version}`);
    expect(fields).toContain('Architecture: all');
    expect(fields).toMatch(/Depends: nodejs \(>= 20\.6\)/);
    const contents = (await run('dpkg-deb', ['--contents', deb])).stdout.trim().split('\n');
    for (const path of INSTALLED) expect(contents.some((l) => l.includes(` .${path}`))).toBe(true);
    for (const line of contents) expect(line.split(/\s+/)[1]).toBe('root/root');
    expect((await run('dpkg-deb', ['--info', deb, 'conffiles'])).stdout.trim()).toBe('/etc/skyboot-agent/config.json');
  });

  it('installs with dpkg -i; the unit verifies and is known to systemd; the agent, man page and docs are in place', async () => {
    await run('dpkg', ['-i', deb]);
    weInstalled = true;
    expect(await installed()).toBe(true);
    for (const path of INSTALLED) expect(existsSync(path)).toBe(true);
    expect(lstatSync('/usr/bin/skyboot-agent').isSymbolicLink()).toBe(true);
    expect(readlinkSync('/usr/bin/skyboot-agent')).toBe('/opt/skyboot-agent/skyboot-agent.mjs');

    // `systemctl cat` asks the running systemd; where PID 1 is not systemd (this CI host, a
    // container) systemd-analyze reads the same search path without one.
    const pid1IsSystemd = existsSync('/run/systemd/system');
    const shown = pid1IsSystemd ? (await run('systemctl', ['cat', 'skyboot-agent'])).stdout : (await run('systemd-analyze', ['cat-config', 'systemd/system/skyboot-agent.service'])).stdout;
    expect(shown).toContain('ExecStart=/usr/bin/node /opt/skyboot-agent/skyboot-agent.mjs run --config /etc/skyboot-agent/config.json');
    expect(shown).toContain('CapabilityBoundingSet=CAP_NET_BIND_SERVICE');
    expect(shown).toContain('Documentation=file:///usr/share/doc/skyboot-agent/agent.md');
    // A bad key or a missing ExecStart binary makes verify exit non-zero.
    await run('systemd-analyze', ['verify', UNIT]);
    // Installed, not enabled: the default config is offline until the site edits it.
    expect((await run('systemctl', ['--root=/', 'is-enabled', 'skyboot-agent']).catch((e: { stdout: string }) => e)).stdout.trim()).toBe('disabled');

    expect((await run('skyboot-agent', ['--version'])).stdout.trim()).toBe(version);
    expect((await run('man', ['-w', 'skyboot-agent'])).stdout.trim()).toBe('/usr/share/man/man1/skyboot-agent.1.gz');
    expect(JSON.parse(readFileSync('/etc/skyboot-agent/config.json', 'utf8'))).toEqual(DEFAULT_AGENT_CONFIG);
  });

  it('the installed agent starts from the shipped config (listening on loopback here) and serves HTTP', async () => {
    const http = await freeTcpPort();
    const tftp = await freeUdpPort();
    const data = join(dir, 'data');
    // The shipped config's own keys, with the listeners moved to loopback so the test answers
    // nothing on the host's real interfaces.
    const agent = spawn('skyboot-agent', ['run', '--config', '/etc/skyboot-agent/config.json', '--data-dir', data, '--http', `127.0.0.1:${http}`, '--tftp', `127.0.0.1:${tftp}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    agent.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
    try {
      const body = await firstBootScript(http);
      if (!body) throw new Error(`the installed agent never answered on 127.0.0.1:${http}; its stderr:\n${stderr}`);
      expect(body).toContain('no snapshot yet');
    } finally {
      agent.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('purge removes the files, the conffile and the state directory', async () => {
    // What systemd's StateDirectory= would have made on the first start.
    mkdirSync(join(STATE_DIR, 'cache'), { recursive: true });
    writeFileSync(join(STATE_DIR, 'snapshot.json'), '{}');
    await run('dpkg', ['--purge', DEB_PACKAGE]);
    weInstalled = false;
    expect(await installed()).toBe(false);
    for (const path of INSTALLED) expect(existsSync(path)).toBe(false);
    expect(existsSync('/etc/skyboot-agent')).toBe(false);
    expect(existsSync(STATE_DIR)).toBe(false);
  });
});
