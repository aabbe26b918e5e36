/**
 * The agent's orchestrator against a real gateway (behind a TCP pass-through the test cuts to
 * make the cloud unreachable) and simulated BMCs over HTTP: `skyboot-agent discover` hands its
 * report to the running agent (over its admin socket), which delivers it when the cloud is back; an
 * operator's power requests are claimed by the running agent, carried out on the BMCs and come
 * back DONE with a result per node; a completion that could not be reported during an outage is
 * reported after it, across a restart of the agent.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveConfig } from '../../../onprem-agent/config.js';
import type { JournalEntry } from '../../../onprem-agent/orchestrator/powerJournal.js';
import { loadLastReport } from '../../../onprem-agent/redfish/report-store.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { DiscoveryReport } from '../../../onprem-agent/redfish/types.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { startTcpProxy, type TcpProxy } from '../agent/tcpProxy.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SITE = 'orch';
const GHOST = 'x3000c0s9b0n0';

type Result = { xname: string; ok: boolean; powerState: string | null; bootOverride: string | null; error: string | null };
type Req = { id: string; status: string; results: Result[] };
const FIELDS = 'id status claimedAt completedAt results { xname ok powerState bootOverride error }';

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent orchestrator: discovery to the cloud, power requests run by the agent', () => {
  let gw: TestGateway;
  let proxy: TcpProxy;
  let fleet: SimulatedFleet;
  let agent: RunningAgent | null = null;
  let report: DiscoveryReport;
  const dataDir = mkdtempSync(join(tmpdir(), 'skyboot-orch-'));
  const tokenFile = join(dataDir, '..', `${dataDir.split('/').pop()}.token`);
  const config = () => resolveConfig({ cloud: proxy.url, tokenFile, dataDir, http: '127.0.0.1:0', syncInterval: '30' });
  const startTheAgent = async () => {
    agent = await startAgent(config(), { syncBackoffBaseMs: 100, outboxBackoffBaseMs: 100, outboxBackoffMaxMs: 500 });
  };
  const stopTheAgent = async () => {
    await agent?.stop();
    agent = null;
  };
  /** node xname → where the simulator keeps its state. */
  const node = (vendor: string, n = 0) => {
    const b = fleet.bmcs.find((x) => x.vendor === vendor)!;
    const ep = report.redfishEndpoints.find((e) => e.port === b.port)!;
    return { xname: ep.systems[n]!.xname, state: () => fleet.system(b.index, b.systems[n]!) };
  };
  const request = async (xnames: string[], action: string): Promise<string> => {
    const r = await gw.gql<{ requestPower: Req[] }>(`mutation($x: [XName!]!, $a: PowerAction!, $s: String) { requestPower(xnames: $x, action: $a, site: $s) { id status } }`, { x: xnames, a: action, s: SITE }, gw.tokens.operator);
    expect(r.errors).toBeUndefined();
    expect(r.data!.requestPower).toHaveLength(1);
    return r.data!.requestPower[0]!.id;
  };
  const discoverCli = (extra: string[] = []) => run(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'discover', ...fleet.bmcs.flatMap((b) => ['--range', `http://${b.host}:${b.port}`]), ...extra, '--data-dir', dataDir], {
    cwd: repoRoot, timeout: 60_000, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn', SKYBOOT_AGENT_CLOUD: proxy.url, SKYBOOT_AGENT_TOKEN_FILE: tokenFile },
  });
  const read = async (id: string): Promise<Req> => (await gw.gql<{ powerRequest: Req }>(`query($id: ID!) { powerRequest(id: $id) { ${FIELDS} } }`, { id }, gw.tokens.viewer)).data!.powerRequest;
  const done = (id: string) => until(`power request ${id} DONE`, async () => { const r = await read(id); return r.status === 'DONE' ? r : null; });

  beforeAll(async () => {
    process.env.SKYBOOT_AGENT_POWER_INTERVAL = '0.2';
    gw = await startTestGateway();
    proxy = await startTcpProxy(gw.url);
    await gw.gql(`mutation($n: String!) { createSite(input: { name: $n }) { site { name } } }`, { n: SITE });
    writeFileSync(tokenFile, await gw.agentToken(SITE));
    // Transitions long enough that the test can cut the link while a cycle is on the BMC.
    fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf', 'cray'], powerTransitionMs: 600 });
  });
  afterAll(async () => {
    delete process.env.SKYBOOT_AGENT_POWER_INTERVAL;
    await stopTheAgent();
    await fleet.close();
    await proxy.close();
    await gw.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(tokenFile, { force: true });
  });

  test('discover hands its report to the running agent while the cloud is down; the agent delivers it when the cloud is back', async () => {
    await startTheAgent();
    await proxy.down();
    const creds = join(dataDir, 'bmc-creds.yaml');
    writeFileSync(creds, `- match: "127.0.0.1"\n  username: ${fleet.username}\n  password: ${fleet.password}\n`);
    const cli = await discoverCli(['--credentials', creds]);
    expect(cli.stdout).toMatch(/2 BMCs, 3 nodes/);
    expect(cli.stderr).toContain(`report handed to the running agent (pid ${process.pid}): queued`);
    const pendingDir = join(dataDir, 'outbox', 'pending');
    const kinds = readdirSync(pendingDir).map((f) => (JSON.parse(readFileSync(join(pendingDir, f), 'utf8')) as { kind: string }).kind);
    expect(kinds).toContain('inventory.reportDiscovery');
    report = (await loadLastReport(dataDir))!;
    // The running agent enqueued it itself, without a restart.
    expect((await agent!.status()).outbox.depth).toBe(1);

    await proxy.up();
    const dmtf = node('dmtf');
    const macs = report.interfaces.filter((i) => i.ownerXName === dmtf.xname).map((i) => i.mac.toLowerCase()).sort();
    expect(macs.length).toBeGreaterThan(0);
    const seen = await until('the discovered node in the inventory', async () => {
      const r = await gw.gql<{ component: { site: string; state: string; interfaces: { mac: string }[] } | null }>(`query($x: XName!, $s: String) { component(xname: $x, site: $s) { site state interfaces { mac } } }`, { x: dmtf.xname, s: SITE });
      return r.data?.component ?? null;
    });
    expect(seen.site).toBe(SITE);
    expect(seen.interfaces.map((i) => i.mac.toLowerCase()).sort()).toEqual(macs);
    await until('the outbox to empty', async () => (await agent!.status()).outbox.depth === 0);
    expect(readdirSync(pendingDir)).toEqual([]);

    // With the cloud up the agent delivers at once and the command says so; the same findings are the same report.
    const again = await discoverCli();
    expect(again.stderr).toContain(`report handed to the running agent (pid ${process.pid}): delivered (DUPLICATE)`);
    // With no agent running, the command owns the data dir and sends itself.
    await stopTheAgent();
    const alone = await discoverCli();
    expect(alone.stderr).toMatch(/report sent to .*\/graphql: delivered \(DUPLICATE\)/);
    await startTheAgent();
  }, 90_000);

  test('CYCLE and PXE_ONCE are claimed and carried out on the BMCs; a node without a discovered BMC fails by name', async () => {
    const up = await gw.gql<{ upsertComponents: { errors: unknown[] } }>('mutation($i: [ComponentInput!]!) { upsertComponents(input: $i) { errors { xname message } } }', { i: [{ xname: GHOST, site: SITE }] });
    expect(up.data?.upsertComponents.errors).toEqual([]);
    const rack = node('dmtf');
    const blade = node('cray', 1);
    const resetsBefore = rack.state().resetsReceived.length;

    const cycle = await done(await request([rack.xname, blade.xname, GHOST], 'CYCLE'));
    const byX = Object.fromEntries(cycle.results.map((r) => [r.xname, r]));
    expect(byX[rack.xname]).toMatchObject({ ok: true, powerState: 'On', error: null });
    expect(byX[blade.xname]).toMatchObject({ ok: true, powerState: 'On', error: null });
    expect(byX[GHOST]).toEqual({ xname: GHOST, ok: false, powerState: null, bootOverride: null, error: `no discovered BMC for ${GHOST}: run skyboot-agent discover` });
    expect(rack.state().resetsReceived.slice(resetsBefore)).toEqual(['PowerCycle']);
    expect(blade.state().resetsReceived.slice(-2)).toEqual(['ForceOff', 'On']);

    const pxe = await done(await request([rack.xname, blade.xname], 'PXE_ONCE'));
    expect(pxe.results.map((r) => r.ok)).toEqual([true, true]);
    const rackResult = pxe.results.find((r) => r.xname === rack.xname)!;
    expect(rackResult.bootOverride).toBe('Pxe/Once/UEFI');
    expect(rack.state()).toMatchObject({ bootOverrideTarget: 'Pxe', bootOverrideEnabled: 'Once', bootOverrideMode: 'UEFI' });
    expect(blade.state()).toMatchObject({ bootOverrideTarget: 'Pxe', bootOverrideEnabled: 'Once' });
    expect(pxe.results.find((r) => r.xname === blade.xname)!.bootOverride).toMatch(/^Pxe\/Once/);
  }, 90_000);

  test('a completion the cloud could not take during an outage is reported after it, across an agent restart', async () => {
    const blade = node('cray', 0);
    const resetsBefore = blade.state().resetsReceived.length;
    const id = await request([blade.xname], 'CYCLE');
    const journal = join(dataDir, 'orchestrator', 'power', `${id}.json`);
    const journalled = async (state: JournalEntry['state']) => {
      const e = existsSync(journal) ? JSON.parse(readFileSync(journal, 'utf8')) as JournalEntry : null;
      return e?.state === state ? e : null;
    };
    // Claimed and journalled: the agent is now on the BMC (ForceOff, wait, On, wait); cut the cloud off.
    await until('the claim', () => journalled('claimed'));
    await proxy.down();
    const ran = await until('the journalled results', () => journalled('ran'));
    expect(ran.results).toEqual([{ xname: blade.xname, ok: true, powerState: 'On', bootOverride: null, error: null }]);
    expect(blade.state().resetsReceived.slice(-2)).toEqual(['ForceOff', 'On']);
    expect((await read(id)).status).toBe('RUNNING');

    await stopTheAgent();
    await startTheAgent(); // still offline: the result waits in the journal
    expect((await read(id)).status).toBe('RUNNING');
    await proxy.up();
    const after = await done(id);
    expect(after.results).toEqual(ran.results);
    // The journal entry goes once the cloud's answer is in (just after DONE is visible).
    await until('the journal to empty', async () => readdirSync(join(dataDir, 'orchestrator', 'power')).length === 0);
    // The BMC saw the cycle once: nothing was run again after the restart.
    expect(blade.state().resetsReceived.slice(resetsBefore)).toEqual(['ForceOff', 'On']);
  }, 90_000);

  test('a request claimed but not run to the end before a restart is reported failed, not run again', async () => {
    await stopTheAgent();
    const rack = node('dmtf');
    const resetsBefore = rack.state().resetsReceived.length;
    const id = await request([rack.xname], 'CYCLE');
    // What a crash right after the claim leaves: the cloud says RUNNING, the journal says claimed.
    const claim = await gw.gql<{ claimPowerRequests: { id: string; claimedAt: string }[] }>('mutation { claimPowerRequests { id claimedAt } }', undefined, readFileSync(tokenFile, 'utf8'));
    expect(claim.data?.claimPowerRequests.map((r) => r.id)).toEqual([id]);
    const entry: JournalEntry = { id, action: 'CYCLE', xnames: [rack.xname], claimedAt: claim.data!.claimPowerRequests[0]!.claimedAt, state: 'claimed', results: null };
    writeFileSync(join(dataDir, 'orchestrator', 'power', `${id}.json`), JSON.stringify(entry));
    await startTheAgent();
    const after = await done(id);
    expect(after.results).toEqual([{ xname: rack.xname, ok: false, powerState: null, bootOverride: null, error: 'the agent stopped while running CYCLE; the outcome is unknown: check with STATUS' }]);
    expect(rack.state().resetsReceived.length).toBe(resetsBefore);
  }, 60_000);
});
