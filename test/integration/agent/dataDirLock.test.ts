/**
 * One process owns a data dir. Real processes through the CLI: a second `skyboot-agent run` on
 * the data dir of a running one is refused naming its pid; `status` and `discover` talk to the
 * running agent over its admin socket, and `discover` leaves the daemon's outbox alone (its
 * in-flight temp files included) while its report lands in the daemon's outbox; after a
 * SIGKILL the stale lock is taken over, and only the new holder removes the dead one's temp files.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';

const BIN = join(process.cwd(), 'bin/skyboot-agent.js');
const exec = promisify(execFile);
type Exec = { code?: number; stdout: string; stderr: string };

async function until(what: string, fn: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the data dir lock between agent processes', () => {
  let dir: string;
  let data: string;
  let fleet: SimulatedFleet;
  let creds: string;
  const children: ChildProcess[] = [];
  const env = { ...process.env, NODE_ENV: 'test', SKYBOOT_LOG_LEVEL: 'warn' };
  const cli = (args: string[]): Promise<Exec> => exec(process.execPath, [BIN, ...args], { env, timeout: 60_000 }).catch((e: Exec) => e);
  const startRun = (): { p: ChildProcess; exited: Promise<number | null>; stderr: () => string } => {
    const p = spawn(process.execPath, [BIN, 'run', '--data-dir', data, '--http', '127.0.0.1:0', '--tftp', 'off', '--dhcp', 'off'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(p);
    let stderr = '';
    p.stderr!.on('data', (d) => (stderr += d));
    return { p, exited: new Promise((r) => p.on('exit', (code) => r(code))), stderr: () => stderr };
  };
  const lockPid = (): number | null => (existsSync(join(data, 'agent.lock')) ? (JSON.parse(readFileSync(join(data, 'agent.lock'), 'utf8')) as { pid: number }).pid : null);
  const discover = () => cli(['discover', '--range', `http://${fleet.bmcs[0]!.host}:${fleet.bmcs[0]!.port}`, '--credentials', creds, '--data-dir', data]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-lock-'));
    data = join(dir, 'data');
    fleet = await startSimulatedFleet({ count: 1 });
    creds = join(dir, 'bmc-creds.yaml');
    writeFileSync(creds, `- match: "127.0.0.1"\n  username: ${fleet.username}\n  password: ${fleet.password}\n`);
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a second run, serves discover and status over the socket, and survives a SIGKILL', async () => {
    const first = startRun();
    await until('the agent to take the lock and listen on its socket', () => lockPid() === first.p.pid && existsSync(join(data, 'agent.sock')));

    const second = await cli(['run', '--data-dir', data, '--http', '127.0.0.1:0', '--tftp', 'off', '--dhcp', 'off']);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`is in use by pid ${first.p.pid} (skyboot-agent run`);
    expect(lockPid()).toBe(first.p.pid);

    // A temp file of an enqueue the daemon has in flight: nobody but the daemon may touch it.
    const pending = join(data, 'outbox', 'pending');
    const inFlight = join(pending, `.000000000000001-000000-0123456789abcdef.json.${first.p.pid}.0badf00d.tmp`);
    writeFileSync(inFlight, '{"half":');
    const before = readdirSync(pending).filter((f) => f.endsWith('.json'));

    const d = await discover();
    expect(d.stdout).toMatch(/1 BMCs?, \d+ nodes?/);
    expect(d.stderr).toContain(`report handed to the running agent (pid ${first.p.pid}): queued`);
    expect(existsSync(inFlight)).toBe(true);
    const after = readdirSync(pending).filter((f) => f.endsWith('.json'));
    expect(after.length).toBe(before.length + 1);
    const entry = JSON.parse(readFileSync(join(pending, after.find((f) => !before.includes(f))!), 'utf8')) as { kind: string; idempotencyKey: string };
    expect(entry).toMatchObject({ kind: 'inventory.reportDiscovery', idempotencyKey: expect.stringMatching(/^redfish-discovery-/) });

    const status = JSON.parse((await cli(['status', '--data-dir', data, '--json'])).stdout) as { agent: { pid: number }; outbox: { depth: number } };
    expect(status.agent.pid).toBe(first.p.pid);
    expect(status.outbox.depth).toBe(after.length);
    expect(first.stderr()).not.toMatch(/ENOENT/);

    // The agent dies without releasing: its lock is stale, and discover takes the data dir over.
    first.p.kill('SIGKILL');
    await first.exited;
    expect(lockPid()).toBe(first.p.pid);
    const offline = await discover();
    expect(offline.stderr).toContain("report queued in the agent's outbox");
    expect(lockPid()).toBeNull(); // released when the command finished
    expect(readdirSync(pending).filter((f) => f.endsWith('.json'))).toHaveLength(after.length); // same key: no second entry

    // The next run owns the data dir and, as the lock holder, clears the dead agent's temp file.
    const third = startRun();
    await until('the new agent to take the lock', () => lockPid() === third.p.pid && existsSync(join(data, 'agent.sock')));
    await until('the dead agent\'s temp file to be removed', () => !existsSync(inFlight));
    third.p.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    expect(lockPid()).toBeNull();
    expect(existsSync(join(data, 'agent.sock'))).toBe(false);
  }, 120_000);
});
