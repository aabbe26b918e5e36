/**
 * Items of a discovery report the cloud refuses are visible: through the API's discovery
 * receipts, and through the running agent's status (`skyboot-agent status` reads it from
 * /status). Real gateway, real agent, the real `skyboot-agent discover` as a child process; the
 * refusal is a MAC another node of the site already holds in the inventory.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { discover } from '../../../onprem-agent/redfish/discover.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { freeTcpPort } from '../../support/ports.js';
import { fleetCredentials, targetsOf } from './support.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SITE = 'receipts';
const HOLDER = 'x3000c0s7b0n0';

type Receipt = { idempotencyKey: string; agent: string | null; endpoints: number; components: number; rejected: { xname: string; code: string; message: string }[] };

describe('refused discovery items are visible', () => {
  let gw: TestGateway;
  let fleet: SimulatedFleet;
  let agent: RunningAgent;
  let agentToken: string;
  const dataDir = mkdtempSync(join(tmpdir(), 'skyboot-receipts-'));
  const tokenFile = join(dataDir, 'agent.token');
  let stopped = false;

  beforeAll(async () => {
    gw = await startTestGateway();
    const site = await gw.gql(`mutation($n: String!) { createSite(input: { name: $n }) { site { name } } }`, { n: SITE });
    if (site.errors) throw new Error(`createSite: ${JSON.stringify(site.errors)}`);
    agentToken = await gw.agentToken(SITE);
    writeFileSync(tokenFile, agentToken);
    fleet = await startSimulatedFleet({ count: 2, vendors: ['dmtf'] });
    agent = await startAgent(resolveConfig({ cloud: gw.url, tokenFile, dataDir, http: '127.0.0.1:0', syncInterval: '30' }), { outboxBackoffBaseMs: 100, outboxBackoffMaxMs: 500 });
  });
  afterAll(async () => {
    if (!stopped) await agent?.stop();
    await fleet?.close();
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a node whose MAC another node holds is listed as refused, with the reason, in the receipt and in status', async () => {
    // What discovery will find, so the inventory can already hold one of its MACs elsewhere.
    const preview = await discover({ targets: targetsOf(fleet), credentials: fleetCredentials(fleet) });
    const victim = preview.hardware[0]!.xname;
    const mac = preview.interfaces.find((i) => i.ownerXName === victim)!.mac;
    const held = await gw.gql<{ upsertComponents: { errors: unknown[] } }>(
      'mutation($i: [ComponentInput!]!) { upsertComponents(input: $i) { errors { xname message } } }',
      { i: [{ xname: HOLDER, site: SITE, interfaces: [{ mac }] }] },
    );
    expect(held.errors).toBeUndefined();
    expect(held.data?.upsertComponents.errors).toEqual([]);

    const cli = await run(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'discover', ...fleet.bmcs.flatMap((b) => ['--range', `http://${b.host}:${b.port}`]), '--data-dir', dataDir], {
      cwd: repoRoot, timeout: 60_000, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn', SKYBOOT_BMC_USERNAME: fleet.username, SKYBOOT_BMC_PASSWORD: fleet.password, SKYBOOT_AGENT_CLOUD: gw.url, SKYBOOT_AGENT_TOKEN_FILE: tokenFile },
    });
    expect(cli.stdout).toMatch(/2 BMCs, 2 nodes/);

    // The API: the site's receipts, newest first, for operators and for the site's agent.
    let receipts: Receipt[] = [];
    const deadline = Date.now() + 30_000;
    while (receipts.length === 0) {
      const r = await gw.gql<{ discoveryReceipts: Receipt[] }>('query($s: String) { discoveryReceipts(site: $s) { idempotencyKey agent endpoints components rejected { xname code message } } }', { s: SITE }, gw.tokens.viewer);
      expect(r.errors).toBeUndefined();
      receipts = r.data!.discoveryReceipts;
      if (receipts.length === 0) {
        if (Date.now() > deadline) throw new Error('no discovery receipt for the site after 30 s');
        await new Promise((res) => setTimeout(res, 100));
      }
    }
    // The receipt names the agent: its OAuth client id, as the gateway reads the token.
    expect(receipts[0]!.agent).toBe(JSON.parse(Buffer.from(agentToken.split('.')[1]!, 'base64url').toString('utf8')).client_id);
    const refused = receipts[0]!.rejected.find((x) => x.xname === victim);
    expect(refused).toBeDefined();
    expect(refused!.message).toContain(`${mac} already belongs to ${HOLDER} of site ${SITE}`);
    const asAgent = await gw.gql<{ discoveryReceipts: Receipt[] }>('{ discoveryReceipts { idempotencyKey } }', undefined, await gw.agentToken(SITE));
    expect(asAgent.data?.discoveryReceipts.map((r) => r.idempotencyKey)).toEqual(receipts.map((r) => r.idempotencyKey));
    const otherSite = await gw.gql('query { discoveryReceipts(site: "receipts") { idempotencyKey } }', undefined, await gw.agentToken('elsewhere'));
    expect(otherSite.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    // The running agent's status, as `skyboot-agent status` prints it.
    const status = await (await fetch(`${agent.httpUrl}/status`)).json() as { discovery: { map: { bmcs: number } | null; rejected: { xname: string; message: string; idempotencyKey: string }[]; lastError: string | null } };
    expect(status.discovery.lastError).toBeNull();
    expect(status.discovery.map?.bmcs).toBe(2);
    expect(status.discovery.rejected).toContainEqual(expect.objectContaining({ xname: victim, idempotencyKey: receipts[0]!.idempotencyKey, message: expect.stringContaining(mac) }));

    // With the agent stopped, `skyboot-agent status` shows the same from the data dir.
    await agent.stop();
    stopped = true;
    const closed = await freeTcpPort();
    const offline = await run(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'status', '--json', '--data-dir', dataDir, '--http', `127.0.0.1:${closed}`], { cwd: repoRoot, timeout: 30_000, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn' } });
    const off = JSON.parse(offline.stdout) as { agent: { running: boolean }; discovery: { rejected: { xname: string }[] } };
    expect(off.agent.running).toBe(false);
    expect(off.discovery.rejected.map((r) => r.xname)).toContain(victim);
  }, 90_000);
});
