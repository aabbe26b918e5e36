/**
 * The agent's client-credentials token source against a real HTTP token endpoint on loopback
 * (a small one here, so the test controls expiry, refusals and outages): tokens are reused until
 * their refresh point, refetched once after a 401, and while the endpoint is down the held token
 * is used until it expires, then calls fail fast under backoff.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientCredentialsTokenSource } from '../../../onprem-agent/sync/tokenProvider.js';
import { CloudRequestError, CloudUnreachableError } from '../../../onprem-agent/sync/errors.js';

describe('ClientCredentialsTokenSource', () => {
  let server: Server;
  let endpoint: string;
  let issued = 0;
  let answer: 'ok' | 'refuse' = 'ok';
  const requests: { authorization: string | undefined; body: string }[] = [];
  const secretFile = join(mkdtempSync(join(tmpdir(), 'token-source-')), 'secret');
  writeFileSync(secretFile, 's3cr:et\n');

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        requests.push({ authorization: req.headers.authorization, body });
        if (answer === 'refuse') return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_client' }));
        issued += 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: `t${issued}`, expires_in: 100, token_type: 'Bearer' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('authenticates with HTTP Basic, reuses the token until its refresh point, and refetches once after a 401', async () => {
    let now = 1_000_000;
    const source = new ClientCredentialsTokenSource({ tokenEndpoint: endpoint, clientId: 'agent-x', clientSecretFile: secretFile, now: () => now });
    expect(await source.token()).toBe('t1');
    expect(requests.at(-1)!.authorization).toBe(`Basic ${Buffer.from('agent-x:s3cr%3Aet').toString('base64')}`);
    expect(requests.at(-1)!.body).toBe('grant_type=client_credentials');
    now += 79_000;
    expect(await source.token()).toBe('t1');
    // 100 s tokens are refreshed 20 s (a fifth) before expiry.
    now += 2_000;
    expect(await source.token()).toBe('t2');
    expect(source.rejected('t2')).toBe(true);
    expect(await source.token()).toBe('t3');
    expect(source.status()).toMatchObject({ mode: 'clientCredentials', fetched: 3, fetchedAfter401: 1, lastError: null });
  });

  it('keeps the held token through an outage until it expires, then fails fast under backoff, and recovers', async () => {
    let now = 5_000_000;
    const source = new ClientCredentialsTokenSource({ tokenEndpoint: endpoint, clientId: 'agent-y', clientSecretFile: secretFile, scope: 'skyboot/agent', backoffBaseMs: 1000, now: () => now });
    const held = await source.token();
    expect(requests.at(-1)!.body).toBe('grant_type=client_credentials&scope=skyboot%2Fagent');
    await new Promise<void>((r) => server.close(() => r()));
    now += 85_000;
    expect(await source.token()).toBe(held);
    expect(source.status().consecutiveFailures).toBe(1);
    now += 20_000;
    const before = requests.length;
    await expect(source.token()).rejects.toBeInstanceOf(CloudUnreachableError);
    expect(source.status().lastError).toMatch(/ECONNREFUSED/);
    // Within the backoff nothing is sent.
    await expect(source.token()).rejects.toThrow(/retry in/);
    expect(requests.length).toBe(before);
    await new Promise<void>((r) => server.listen(Number(new URL(endpoint).port), '127.0.0.1', () => r()));
    now += 10_000;
    expect(await source.token()).not.toBe(held);
    expect(source.status()).toMatchObject({ consecutiveFailures: 0, lastError: null });
  });

  it('reports a refused client as UNAUTHENTICATED naming the client and the reason', async () => {
    answer = 'refuse';
    const source = new ClientCredentialsTokenSource({ tokenEndpoint: endpoint, clientId: 'agent-z', clientSecretFile: secretFile });
    const err = await source.token().catch((e: unknown) => e);
    answer = 'ok';
    expect(err).toBeInstanceOf(CloudRequestError);
    expect((err as CloudRequestError).code).toBe('UNAUTHENTICATED');
    expect((err as Error).message).toMatch(/refused client agent-z: HTTP 401 invalid_client/);
    const missing = new ClientCredentialsTokenSource({ tokenEndpoint: endpoint, clientId: 'agent-z', clientSecretFile: '/nonexistent/secret' });
    await expect(missing.token()).rejects.toThrow(/clientSecretFile \/nonexistent\/secret: ENOENT/);
  });
});
