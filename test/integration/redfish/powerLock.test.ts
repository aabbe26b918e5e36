/**
 * Two processes on one data dir never drive one node's BMC at once: while a child process's
 * power-off waits for the BMC to confirm, an action on the same node from this process is
 * refused naming the child, sends nothing to the BMC, and works once the child is done; another
 * node is not held up.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { endpointMapFromReport, powerAction, type EndpointMap } from '../../../onprem-agent/redfish/power.js';
import { powerLockDir } from '../../../onprem-agent/redfish/powerLock.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { fleetCredentials, targetsOf } from './support.js';

let fleet: SimulatedFleet;
let endpoints: EndpointMap;
let dataDir: string;

beforeAll(async () => {
  // A slow BMC: a power change takes 20 s to show in PowerState, so the child holds the node that long.
  fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf'], powerTransitionMs: 20_000, recordRequests: true });
  endpoints = endpointMapFromReport(await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) }));
  dataDir = mkdtempSync(join(tmpdir(), 'skyboot-power-lock-'));
});
afterAll(async () => {
  await fleet.close();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a node being powered by another process is refused, untouched, and free again afterwards', async () => {
  const [first, second] = [...endpoints.keys()].sort();
  const opts = { dataDir, endpoints, credentials: fleetCredentials(fleet), confirmTimeoutMs: 60_000, pollMs: 25 };
  // The child powers the node on for real: a forced off is immediate on this BMC, a power-on takes
  // its 20 s transition, so the node starts Off and the child has a power-on to wait for.
  expect((await powerAction([first!], 'off', opts))[0]).toMatchObject({ ok: true, powerState: 'Off' });
  const [childAction, childState, backAction, backState] = ['on', 'On', 'off', 'Off'] as const;
  const resetRequests = (): number => fleet.requestLog().filter((r) => r.method === 'POST' && r.path.includes('Reset')).length;
  const resetsBefore = resetRequests();
  const resets = (): number => resetRequests() - resetsBefore;
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/integration/redfish/powerChild.ts', JSON.stringify({
    dataDir, endpoints: [...endpoints], username: fleet.username, password: fleet.password, action: childAction, xname: first, confirmTimeoutMs: 60_000,
  })], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', r));

  // Wait until the child holds the node's lock (it is then waiting for the BMC to confirm).
  const lockFile = join(powerLockDir(dataDir), `${first}.lock`);

  for (let i = 0; i < 1200 && !existsSync(lockFile); i++) await new Promise((r) => setTimeout(r, 50));
  expect(existsSync(lockFile)).toBe(true);
  expect(child.exitCode).toBeNull();


  const refused = await powerAction([first!], backAction, opts);
  if (refused[0]!.ok) throw new Error(`the second action was not refused; the child ended with ${await exited} and printed ${out}`);
  expect(refused[0]).toMatchObject({ ok: false });
  expect(refused[0]!.error).toContain(`pid ${child.pid} (skyboot-agent power (test child))`);
  expect(refused[0]!.error).toContain('nothing was sent');

  // Another node is not held up by the first one's lock.
  expect((await powerAction([second!], 'status', opts))[0]).toMatchObject({ ok: true });

  expect(await exited).toBe(0);
  expect(JSON.parse(out.trim())[0]).toMatchObject({ xname: first, ok: true, powerState: childState });
  // The BMC saw one reset request in all: the child's (the refused call sent none).
  expect(resets()).toBe(1);
  expect((await powerAction([first!], backAction, opts))[0]).toMatchObject({ ok: true, powerState: backState });
  expect(resets()).toBe(2);
}, 180_000);
