/**
 * Agent authentication as in a real deployment, on 20-second access tokens: the agent is
 * configured only with the token endpoint, the client id createSite handed out and a file with
 * its secret. For two minutes it syncs, serves boots and delivers observations while its token
 * expires and is refreshed several times; then the token endpoint goes away for 30 s (a TCP proxy
 * in front of the local authorization server is closed): boots are still answered, the agent
 * reports the failure, and once the endpoint returns it fetches a token, catches up and drains
 * its outbox. Refreshes are counted on the authorization server's side and in agent status.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { resolveConfig } from '../../onprem-agent/config.js';
import { startAgent, type AgentStatus, type RunningAgent } from '../../onprem-agent/run/agent.js';
import { startTcpProxy, type TcpProxy } from '../integration/agent/tcpProxy.js';
import { startTestCloud, type TestCloud } from '../integration/sync/cloud.js';
import { siteFixture, type SiteFixture } from '../integration/sync/siteFixture.js';
import { httpFrom } from '../support/httpFrom.js';

const TTL_SECONDS = 20;

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`agent client credentials on ${TTL_SECONDS}-second tokens`, () => {
  let cloud: TestCloud;
  let fx: SiteFixture;
  let proxy: TcpProxy;
  let agent: RunningAgent;
  let dir: string;
  const previousTtl = process.env.SKYBOOT_TOKEN_TTL_SECONDS;

  beforeAll(async () => {
    process.env.SKYBOOT_TOKEN_TTL_SECONDS = String(TTL_SECONDS);
    cloud = await startTestCloud();
    expect(cloud.gw.auth.tokenTtlSeconds).toBe(TTL_SECONDS);
    // The node lives at a loopback address of its own: the agent takes its heartbeats only from there.
    fx = await siteFixture(cloud.gw, 'refresh', { nodeAddresses: ['127.0.0.2', '127.0.0.3'] });
    proxy = await startTcpProxy(cloud.gw.auth.issuer);
    dir = mkdtempSync(join(tmpdir(), 'skyboot-refresh-'));
    writeFileSync(join(dir, 'client.secret'), `${fx.agentClient.clientSecret}\n`, { mode: 0o600 });
  });
  afterAll(async () => {
    await agent?.stop();
    await proxy?.close();
    await cloud?.close();
    if (previousTtl === undefined) delete process.env.SKYBOOT_TOKEN_TTL_SECONDS;
    else process.env.SKYBOOT_TOKEN_TTL_SECONDS = previousTtl;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const status = async () => (await (await fetch(`${agent.httpUrl}/status`)).json()) as AgentStatus;
  const bootScript = async () => {
    const r = await fetch(`${agent.httpUrl}/boot/v1/bootscript?mac=02:00:00:00:00:01`);
    return { status: r.status, text: await r.text() };
  };
  const heartbeat = async (key: string) =>
    (await httpFrom('127.0.0.2', `${agent.httpUrl}/heartbeat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ xname: 'x1000c0s0b0n0', stage: 'booted', idempotencyKey: key }) })).status;
  const storedObservations = async () => {
    const out = await cloud.gw.aws.clients.doc.send(
      new QueryCommand({ TableName: cloud.gw.aws.tableName, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :p', ExpressionAttributeValues: { ':p': 'SITE#refresh#OBS' } }),
    );
    return new Set((out.Items ?? []).map((i) => String(i.idempotencyKey)));
  };

  it('syncs, serves boots and delivers observations across refreshes, and recovers after the token endpoint is down for 30 s', async () => {
    const config = resolveConfig({
      cloud: cloud.gw.url,
      tokenEndpoint: `${proxy.url}/token`,
      clientId: fx.agentClient.clientId,
      clientSecretFile: join(dir, 'client.secret'),
      dataDir: join(dir, 'data'),
      http: '127.0.0.1:0',
      syncInterval: 2,
    });
    expect(config.tokenFile).toBeNull();
    expect(config.clientCredentials?.scope).toBeNull();
    agent = await startAgent(config, { syncBackoffBaseMs: 200, outboxBackoffBaseMs: 200, outboxBackoffMaxMs: 1000 });
    await waitFor('first sync with artifacts', async () => agent.syncer.status().revision === 1 && (await agent.cache.stats()).entries === 2);

    // Two minutes online: a boot request and a heartbeat every 4 s, a site change halfway through.
    const started = Date.now();
    const sent: string[] = [];
    let changed = false;
    while (Date.now() - started < 120_000) {
      const boot = await bootScript();
      expect(boot.status).toBe(200);
      const key = `refresh-hb-${sent.length}`;
      expect(await heartbeat(key)).toBe(202);
      sent.push(key);
      if (!changed && Date.now() - started > 60_000) {
        // Long after the first token expired: the change reaches the agent only with a refreshed one.
        await fx.setBoot({ selector: { xnames: ['x1000c0s0b0n0'] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 after-refresh' });
        changed = true;
      }
      await sleep(4_000);
    }
    await waitFor('revision 2 after the mid-run change', async () => agent.syncer.status().revision === 2);
    expect((await bootScript()).text).toContain('after-refresh');
    await waitFor('every heartbeat stored', async () => {
      const stored = await storedObservations();
      return sent.every((k) => stored.has(k)) && agent.outbox.depth === 0;
    });
    const online = await status();
    const issuedOnline = cloud.gw.auth.issued.byClient[fx.agentClient.clientId] ?? 0;
    // 120 s of 20 s tokens, refreshed before expiry: at least six tokens, the fixture's one aside.
    expect(online.cloud.auth).toMatchObject({ mode: 'clientCredentials', lastError: null, consecutiveFailures: 0 });
    expect(online.cloud.auth!.fetched).toBeGreaterThanOrEqual(6);
    expect(issuedOnline).toBeGreaterThanOrEqual(online.cloud.auth!.fetched + 1);
    expect(online.cloud.up).toBe(true);
    expect(online.outbox.consecutiveFailures).toBe(0);

    // The token endpoint goes away for 30 s, longer than a token lives.
    await proxy.down();
    const downAt = Date.now();
    const duringOutage: string[] = [];
    let changedWhileLocked = false;
    while (Date.now() - downAt < 30_000) {
      expect((await bootScript()).status).toBe(200);
      const key = `outage-hb-${duringOutage.length}`;
      expect(await heartbeat(key)).toBe(202);
      duringOutage.push(key);
      // The held token keeps working until it expires; once it has, the agent is locked out.
      if (!changedWhileLocked && (await status()).cloud.up === false) {
        await fx.setBoot({ selector: { xnames: ['x1000c0s0b0n0'] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0 after-outage' });
        changedWhileLocked = true;
      }
      await sleep(3_000);
    }
    expect(changedWhileLocked).toBe(true);
    const down = await status();
    expect(down.cloud.auth!.lastError).toMatch(/token endpoint .*ECONNREFUSED|fetch failed/);
    expect(down.cloud.auth!.consecutiveFailures).toBeGreaterThan(0);
    expect(down.cloud.up).toBe(false);
    expect(down.snapshot.revision).toBe(2);
    expect(cloud.gw.auth.issued.byClient[fx.agentClient.clientId]).toBe(issuedOnline);

    await proxy.up();
    const upAt = Date.now();
    // The sync loop and the token source back off up to 60 s each while the endpoint is down,
    // so the catch-up comes within about a minute of its return.
    let seen = '';
    await waitFor('a new token, the catch-up to revision 3 and an empty outbox', async () => {
      const s = agent.syncer.status();
      seen = JSON.stringify({ revision: s.revision, link: s.link, outboxDepth: agent.outbox.depth, auth: (await status()).cloud.auth });
      return s.revision === 3 && s.link.up === true && agent.outbox.depth === 0;
    }, 90_000).catch((err: Error) => { throw new Error(`${err.message}; last seen ${seen}`); });
    const recoveredInMs = Date.now() - upAt;
    const stored = await storedObservations();
    expect(duringOutage.filter((k) => !stored.has(k))).toEqual([]);
    expect((await bootScript()).text).toContain('after-outage');
    const after = await status();
    expect(after.cloud.auth).toMatchObject({ lastError: null, consecutiveFailures: 0 });
    expect(after.cloud.auth!.fetched).toBeGreaterThan(online.cloud.auth!.fetched);
    expect(cloud.gw.auth.issued.byClient[fx.agentClient.clientId]).toBeGreaterThan(issuedOnline);
    // The agent's backoff is capped well below the outage; recovery takes seconds, not minutes.
    expect(recoveredInMs).toBeLessThan(70_000);
    process.stderr.write(`agent-token-refresh: ${after.cloud.auth!.fetched} tokens fetched (${after.cloud.auth!.fetchedAfter401} after a 401), recovered ${recoveredInMs} ms after the endpoint returned\n`);
  }, 300_000);
});
