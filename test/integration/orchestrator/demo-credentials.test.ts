/**
 * The demo's path, as `npm start` prints it: a running agent, then
 * `SKYBOOT_BMC_USERNAME=… SKYBOOT_BMC_PASSWORD=… skyboot-agent discover --data-dir … --range …`
 * in another shell, then a power request through the API. The running agent never saw those
 * environment variables; its power runner must still log in with the account discovery used.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { ENV_PASSWORD, ENV_USERNAME } from '../../../onprem-agent/redfish/credentials.js';
import { loadLastReport } from '../../../onprem-agent/redfish/report-store.js';
import { startSimulatedFleet, type SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

const run = promisify(execFile);
const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SITE = 'democreds';

type Req = { id: string; status: string; results: { xname: string; ok: boolean; powerState: string | null; error: string | null }[] };

describe('demo: discover with environment credentials, then power through the running agent', () => {
  let gw: TestGateway;
  let fleet: SimulatedFleet;
  let agent: RunningAgent;
  const dataDir = mkdtempSync(join(tmpdir(), 'skyboot-democreds-'));
  const tokenFile = join(dataDir, 'agent.token');

  beforeAll(async () => {
    // The agent process has no BMC account in its environment, as in the demo.
    expect(process.env[ENV_USERNAME]).toBeUndefined();
    expect(process.env[ENV_PASSWORD]).toBeUndefined();
    process.env.SKYBOOT_AGENT_POWER_INTERVAL = '0.2';
    gw = await startTestGateway();
    const site = await gw.gql(`mutation($n: String!) { createSite(input: { name: $n }) { site { name } } }`, { n: SITE });
    if (site.errors) throw new Error(`createSite: ${JSON.stringify(site.errors)}`);
    writeFileSync(tokenFile, await gw.agentToken(SITE));
    fleet = await startSimulatedFleet({ count: 1, vendors: ['dmtf'], password: 'demo-only-s3cret', powerTransitionMs: 100 });
    agent = await startAgent(resolveConfig({ cloud: `${gw.url}`, tokenFile, dataDir, http: '127.0.0.1:0', syncInterval: '30' }));
  });
  afterAll(async () => {
    delete process.env.SKYBOOT_AGENT_POWER_INTERVAL;
    await agent?.stop();
    await fleet?.close();
    await gw?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the power request comes back DONE with the state read from the BMC, not 401', async () => {
    const b = fleet.bmcs[0]!;
    const cli = await run(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), 'discover', '--data-dir', dataDir, '--range', `http://${b.host}:${b.port}`], {
      cwd: repoRoot, timeout: 60_000,
      env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn', [ENV_USERNAME]: fleet.username, [ENV_PASSWORD]: fleet.password },
    });
    expect(cli.stdout).toMatch(/1 BMCs, 1 nodes/);
    expect(cli.stderr).toContain(ENV_USERNAME);
    const xname = (await loadLastReport(dataDir))!.redfishEndpoints[0]!.systems[0]!.xname;
    const up = await gw.gql<{ upsertComponents: { errors: unknown[] } }>('mutation($i: [ComponentInput!]!) { upsertComponents(input: $i) { errors { xname message } } }', { i: [{ xname, site: SITE }] });
    expect(up.data?.upsertComponents.errors).toEqual([]);
    const made = await gw.gql<{ requestPower: Req[] }>('mutation($x: [XName!]!, $s: String) { requestPower(xnames: $x, action: STATUS, site: $s) { id } }', { x: [xname], s: SITE }, gw.tokens.operator);
    expect(made.errors).toBeUndefined();
    const id = made.data!.requestPower[0]!.id;
    const deadline = Date.now() + 30_000;
    let req: Req;
    for (;;) {
      req = (await gw.gql<{ powerRequest: Req }>('query($id: ID!) { powerRequest(id: $id) { id status results { xname ok powerState error } } }', { id }, gw.tokens.viewer)).data!.powerRequest;
      if (req.status === 'DONE') break;
      if (Date.now() > deadline) throw new Error(`power request ${id} still ${req.status} after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(req.results).toEqual([{ xname, ok: true, powerState: 'On', error: null }]);
  }, 90_000);
});
