/**
 * An agent dies mid-rollout and another agent of the site takes over. The site's agent runs as
 * `skyboot-agent run` in a child process and is killed with SIGKILL while it has nodes in flight;
 * the site's second agent (its own client, its own data dir and discovery, listening at the service
 * address the nodes boot from, as a standby does) starts. The claim-expiry handler runs on a timer,
 * as `npm start` runs it (an EventBridge schedule in AWS), hands the dead agent's claims back once
 * their lease ran out, and the second agent rolls those nodes. The session completes with every
 * node accounted for once: the simulator's record says which agent's cycle each node came up from.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expireBootSessionClaims } from '../../../functions/orchestration/claimExpiry.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { startAgent } from '../../../onprem-agent/run/agent.js';
import { freeTcpPort } from '../../support/ports.js';
import { firstPowerOff, outOfService, startSimulatedSite, until, type SimulatedSite } from './rollingSite.js';

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const COUNT = 12;
/** Short, so the takeover happens within the test; the cloud reads it at each claim and renewal. */
const LEASE_SECONDS = '6';

describe('rolling reboot takeover: the agent is killed mid-rollout, another agent of the site finishes the session', () => {
  let site: SimulatedSite;
  let port: number;
  const saved = { lease: process.env.SKYBOOT_BOOT_CLAIM_LEASE_SECONDS, interval: process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL };

  beforeAll(async () => {
    process.env.SKYBOOT_BOOT_CLAIM_LEASE_SECONDS = LEASE_SECONDS;
    process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL = '0.5';
    port = await freeTcpPort();
    // A boot takes 1.5 s, so the kill finds nodes between power cycle and heartbeat.
    site = await startSimulatedSite({ site: 'takeover', count: COUNT, bootDelayMs: 1500, agentPort: port });
    await site.putTemplate('to-b', site.imageB, 'console=ttyS0');
  }, 120_000);
  afterAll(async () => {
    for (const [k, v] of [['SKYBOOT_BOOT_CLAIM_LEASE_SECONDS', saved.lease], ['SKYBOOT_AGENT_ROLLOUT_INTERVAL', saved.interval]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await site?.close();
  });

  it('SIGKILL with nodes in flight: their claims expire, the second agent rolls them, and every node ends SUCCEEDED on B once', async () => {
    const gw = site.cloud.gw;
    const d1 = join(site.dir, 'agent-1');
    writeFileSync(join(site.dir, 'client-secret'), site.fx.agentClient.clientSecret);
    let log = '';
    const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'run',
      '--cloud', gw.url, '--token-endpoint', site.fx.agentClient.tokenEndpoint, '--client-id', site.fx.agentClient.clientId, '--client-secret-file', join(site.dir, 'client-secret'),
      '--data-dir', d1, '--http', `127.0.0.1:${port}`, '--sync-interval', '1'], {
      cwd: repoRoot, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => { log = (log + c.toString()).slice(-4000); });
    const exited = new Promise<NodeJS.Signals | number | null>((r) => child.once('exit', (code, signal) => r(signal ?? code)));
    site.onClose(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    await until('the child agent to serve its snapshot', async () => {
      const res = await fetch(`${site.agentUrl}/status`).catch(() => null);
      return res?.ok && ((await res.json()) as { snapshot: { nodes: number } }).snapshot.nodes >= COUNT;
    }, 60_000, () => log);
    const d1Discovery = await site.discoverInto(d1, 'inventory-file');
    expect(d1Discovery.stderr).toContain(`report handed to the running agent (pid ${child.pid})`);

    const s = await site.createSession({ template: 'to-b', operation: 'REBOOT', maxConcurrent: 3, bootTimeoutSeconds: 30 });
    await site.waitForSession(s.id, 'to have nodes done and nodes in flight', (x) => x.counts.succeeded >= 3 && x.counts.inProgress > 0, 60_000);
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const killedAt = Date.now();
    // A request the agent sent just before it died may still be finishing in the cloud.
    await new Promise((r) => setTimeout(r, 500));
    const atKill = await site.sessionNodes(s.id);
    const inFlight = atKill.filter((r) => r.phase === 'INPROGRESS');
    const doneByFirst = atKill.filter((r) => r.phase === 'SUCCEEDED');
    expect(inFlight.length).toBeGreaterThan(0);
    const firstAgent = inFlight[0]!.claimedBy!;
    for (const r of [...inFlight, ...doneByFirst]) expect(r.claimedBy).toBe(firstAgent);

    // The standby: another agent client of the site, its own discovery (before it runs: the map names BMCs from the exported inventory).
    const d2 = join(site.dir, 'agent-2');
    await site.discoverInto(d2, 'inventory-file');
    writeFileSync(join(site.dir, 'agent-2.token'), await gw.agentToken(site.fx.site));
    const second = await startAgent(resolveConfig({ cloud: gw.url, tokenFile: join(site.dir, 'agent-2.token'), dataDir: d2, http: `127.0.0.1:${port}`, syncInterval: '1' }));
    site.onClose(() => second.stop());
    // The claim-expiry schedule, on a timer as npm start runs it.
    let expired = 0;
    const schedule = setInterval(() => {
      expireBootSessionClaims(gw.aws.clients).then((n) => { expired += n; }, () => undefined);
    }, 1000);
    try {
      const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 90_000);
      expect(done).toMatchObject({ status: 'COMPLETE', counts: { total: COUNT, succeeded: COUNT, pending: 0, waiting: 0, inProgress: 0, failed: 0, rolledBack: 0, staged: 0, superseded: 0 } });
    } finally {
      clearInterval(schedule);
    }
    expect(expired).toBe(inFlight.length);

    const records = await site.sessionNodes(s.id);
    expect(records.map((r) => r.xname).sort()).toEqual(site.nodes.map((n) => n.xname).sort());
    const secondAgent = records.find((r) => r.claimedBy !== firstAgent)?.claimedBy;
    expect(secondAgent).toBeDefined();
    for (const n of site.nodes) {
      const r = records.find((x) => x.xname === n.xname)!;
      expect(r.phase).toBe('SUCCEEDED');
      const script = await site.bootScriptAsNode(n);
      expect(script.kernelUrl?.endsWith(site.kernelB.sha256)).toBe(true);
      expect(site.record(n).lastToken).toBe(script.token);
      if (doneByFirst.some((x) => x.xname === n.xname)) {
        // Done before the kill: left alone by the second agent.
        expect(r).toMatchObject({ attempts: 1, claimedBy: firstAgent });
        expect(firstPowerOff(site.record(n), killedAt)).toBeNull();
      } else if (inFlight.some((x) => x.xname === n.xname)) {
        // Taken over once its lease ran out: claimed again, cycled again by the second agent, up on B.
        expect(r).toMatchObject({ attempts: 2, claimedBy: secondAgent });
        expect(Date.parse(r.startedAt!)).toBeGreaterThan(killedAt);
        expect(outOfService(n.xname, site.record(n), killedAt, script.token!).interval).not.toBeNull();
      } else {
        expect(r).toMatchObject({ attempts: 1, claimedBy: secondAgent });
      }
    }
  }, 180_000);
});
