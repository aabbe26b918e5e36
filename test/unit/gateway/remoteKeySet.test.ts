/**
 * The gateway's remote key set against a real HTTP server on loopback: tokens verify with the
 * served keys, a rotation is picked up after the cooldown and not before, an old set is
 * refetched, concurrent verifications share one fetch, and a bad answer fails the verification.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, jwtVerify, type JWK } from 'jose';
import { remoteKeySet } from '../../../gateway/auth/remoteKeySet.js';

type Answer = (res: ServerResponse) => void;
let server: Server;
let url: URL;
let answer: Answer;
let fetches = 0;

const keys: Record<string, { privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']; jwk: JWK }> = {};
async function key(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  keys[kid] = { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}
const serve = (...kids: string[]): Answer => (res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: kids.map((k) => keys[k]!.jwk) }));
const token = (kid: string) => new SignJWT({ sub: 'someone' }).setProtectedHeader({ alg: 'RS256', kid }).setIssuer('https://issuer.test').setExpirationTime('5m').sign(keys[kid]!.privateKey);

beforeAll(async () => {
  await key('a');
  await key('b');
  server = createServer((_req, res) => {
    fetches += 1;
    answer(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`);
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  fetches = 0;
  answer = serve('a');
});

test('verifies tokens signed with a served key; concurrent verifications share one fetch', async () => {
  const keySet = remoteKeySet(url);
  const t = await token('a');
  const results = await Promise.all([1, 2, 3].map(() => jwtVerify(t, keySet, { issuer: 'https://issuer.test' })));
  expect(results.map((r) => r.payload.sub)).toEqual(['someone', 'someone', 'someone']);
  expect(fetches).toBe(1);
  await jwtVerify(t, keySet);
  expect(fetches).toBe(1);
});

test('a rotated key is fetched once the set is past the cooldown, not before; an old set is refetched', async () => {
  let clock = 1_000_000;
  const keySet = remoteKeySet(url, { now: () => clock });
  await jwtVerify(await token('a'), keySet);
  answer = serve('a', 'b');
  clock += 10_000;
  await expect(jwtVerify(await token('b'), keySet)).rejects.toThrow(/no applicable key found/);
  expect(fetches).toBe(1);
  clock += 25_000;
  expect((await jwtVerify(await token('b'), keySet)).payload.sub).toBe('someone');
  expect(fetches).toBe(2);
  // Ten minutes on, the set is refetched before use even for a known key.
  clock += 600_000;
  await jwtVerify(await token('a'), keySet);
  expect(fetches).toBe(3);
});

test('a key the server never serves is refused, after one refetch', async () => {
  const keySet = remoteKeySet(url, { cooldownMs: 0 });
  await jwtVerify(await token('a'), keySet);
  await expect(jwtVerify(await token('b'), keySet)).rejects.toThrow(/no applicable key found/);
  expect(fetches).toBe(2);
});

test('an answer other than 200 with a JSON key set fails the verification, redirects included', async () => {
  const cases: [Answer, RegExp][] = [
    [(res) => res.writeHead(500).end('down'), /Expected 200 OK.*\(got 500\)/],
    [(res) => res.writeHead(302, { location: url.href }).end(), /Expected 200 OK.*\(got 302\)/],
    [(res) => res.writeHead(200).end('{"keys": ['), /Failed to parse the JSON Web Key Set/],
    [(res) => res.writeHead(200).end('{"nokeys": 1}'), /JSON Web Key Set malformed/],
  ];
  for (const [a, message] of cases) {
    answer = a;
    await expect(jwtVerify(await token('a'), remoteKeySet(url))).rejects.toThrow(message);
  }
});

test('a server that does not answer fails the fetch at the timeout', async () => {
  answer = () => undefined;
  const started = Date.now();
  await expect(jwtVerify(await token('a'), remoteKeySet(url, { timeoutMs: 200 }))).rejects.toThrow(/timed out/);
  expect(Date.now() - started).toBeLessThan(5_000);
  server.closeAllConnections();
});
