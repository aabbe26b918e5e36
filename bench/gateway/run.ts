/**
 * bench/gateway: the gateway over 10,000 components in DynamoDB Local, side by side in one run
 * with the same Apollo server answering from an in-memory map.
 *   node --import tsx bench/gateway/run.ts [--seconds 10] [--connections 16]
 * Prints req/s and p50/p99 for components(first: 100) and component(xname) on both, their
 * ratios, and DynamoDB's consumed capacity per request against the minimum for the bytes read.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { startDynamoDbLocal } from '../../local/emulators.js';
import { clients, resetClients } from '../../functions/shared/clients.js';
import { tableDefinition } from '../../functions/shared/table.js';
import { handler as inventory } from '../../functions/inventory/handler.js';
import { startAuthServer, CLI_CLIENT_ID } from '../../local/authServer.js';
import { pkceLogin } from '../../test/support/oauthBrowser.js';
import { buildGateway } from '../../gateway/server.js';
import { createGatewayHttpServer } from '../../gateway/http.js';
import { inProcessInvoker } from '../../gateway/invoker.js';
import { domains, type DomainRegistration } from '../../gateway/domains.js';
import { createTokenVerifier } from '../../gateway/auth/verifier.js';
import type { Identity } from '../../functions/shared/identity.js';
import { meterCapacity, minimumReadUnits } from './capacity.js';
import { memoryInventory } from './memoryInventory.js';
import { luaString, wrk, type WrkResult } from '../support/wrk.js';
import { writeReport } from '../support/report.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const SECONDS = flag('seconds', 10);
const CONNECTIONS = flag('connections', 16);
const COUNT = 10_000;
const say = (s: string) => process.stderr.write(`${s}\n`);

/** x1000c0s0b0n0 … : 4 nodes per BMC, 8 slots per chassis, 8 chassis per cabinet. */
export function xnameOf(i: number): string {
  return `x${1000 + Math.floor(i / 256)}c${Math.floor(i / 32) % 8}s${Math.floor(i / 4) % 8}b0n${i % 4}`;
}
const macOf = (i: number) => `02:00:${[(i >> 16) & 255, (i >> 8) & 255, i & 255, 1].map((b) => b.toString(16).padStart(2, '0')).join(':')}`;

const dynamo = await startDynamoDbLocal();
process.env.SKYBOOT_LOCAL = '1';
process.env.AWS_REGION = 'us-east-1';
process.env.AWS_ACCESS_KEY_ID = 'local';
process.env.AWS_SECRET_ACCESS_KEY = 'local';
process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
process.env.SKYBOOT_TABLE = 'bench-gateway';
resetClients();
const c = clients();
await c.ddb.send(new CreateTableCommand(tableDefinition(c.config.tableName)));

const admin: Identity = { subject: 'bench', roles: ['admin'], site: null };
say(`seeding ${COUNT} components`);
for (let start = 0; start < COUNT; start += 1000) {
  const input = Array.from({ length: 1000 }, (_, k) => {
    const i = start + k;
    return { xname: xnameOf(i), role: 'COMPUTE', nid: i + 1, arch: 'X86', enabled: true, state: 'READY', interfaces: [{ mac: macOf(i), ipAddresses: [`10.${1 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`] }] };
  });
  const out = await inventory({ domain: 'inventory', identity: admin, requestId: 'seed', calls: [{ operation: 'upsertComponents', args: { input } }] });
  const r = out.results[0]!;
  if (!r.ok || (r.value as { errors: unknown[] }).errors.length) throw new Error(`seed failed: ${JSON.stringify(r).slice(0, 500)}`);
}
const all: Record<string, unknown>[] = [];
for (let after: string | null = null; ; ) {
  const out = await inventory({ domain: 'inventory', identity: admin, requestId: 'load', calls: [{ operation: 'components', args: { first: 1000, after } }] });
  const page = (out.results[0] as { value: { edges: { node: Record<string, unknown> }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } }).value;
  all.push(...page.edges.map((e) => e.node));
  if (!page.pageInfo.hasNextPage) break;
  after = page.pageInfo.endCursor;
}
if (all.length !== COUNT) throw new Error(`expected ${COUNT} components, read ${all.length}`);

const auth = await startAuthServer({ dataDir: mkdtempSync(join(tmpdir(), 'bench-auth-')), port: 0 });
const benchAdmin = auth.users.find((u) => u.username === 'admin')!;
const token = (await pkceLogin({ authorizationEndpoint: auth.authorizationEndpoint, tokenEndpoint: auth.tokenEndpoint, clientId: CLI_CLIENT_ID, username: benchAdmin.username, password: benchAdmin.password })).access_token;
const verify = createTokenVerifier({ issuer: auth.issuer, jwks: { url: auth.jwksUri } });

async function serve(regs: DomainRegistration[]): Promise<{ url: string; close: () => Promise<void> }> {
  const apollo = buildGateway({ production: true, domains: regs });
  await apollo.start();
  const http: Server = createGatewayHttpServer({ apollo, verify, invoker: inProcessInvoker(regs) });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`,
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
      await apollo.stop();
    },
  };
}

const LIST = 'query($first: Int) { components(first: $first) { edges { node { xname type state flag role nid arch version interfaces { mac ipAddresses } } } pageInfo { hasNextPage endCursor } } }';
const ONE = 'query($x: XName!) { component(xname: $x) { xname type state flag role nid arch version interfaces { mac ipAddresses } } }';

function luaFor(kind: 'list' | 'one'): string {
  const head = `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = ${luaString(`Bearer ${token}`)}\n`;
  if (kind === 'list') return `${head}wrk.body = ${luaString(JSON.stringify({ query: LIST, variables: { first: 100 } }))}\n`;
  const pre = JSON.stringify({ query: ONE }).slice(0, -1);
  return `${head}math.randomseed(42)
local pre = ${luaString(pre)}
request = function()
  local i = math.random(0, ${COUNT - 1})
  local x = string.format("x%dc%ds%db0n%d", 1000 + math.floor(i / 256), math.floor(i / 32) % 8, math.floor(i / 4) % 8, i % 4)
  return wrk.format(nil, nil, nil, pre .. ',"variables":{"x":"' .. x .. '"}}')
end
`;
}

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { errors?: unknown[]; data?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors).slice(0, 500));
  return body.data;
}

const meter = meterCapacity(c.ddb);
const real = await serve(domains);
const memory = await serve([memoryInventory(all as never), ...domains.filter((d) => d.manifest.domain !== 'inventory')]);

// Both answer the same bytes before anything is timed.
const [a, b] = await Promise.all([post(real.url, ONE, { x: xnameOf(4242) }), post(memory.url, ONE, { x: xnameOf(4242) })]);
if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`the two servers disagree:\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);

say('measuring DynamoDB capacity per request');
const capacity: Record<string, { requests: number; unitsPerRequest: number; bytesPerRequest: number; minimumUnitsPerRequest: number; ddbCallsPerRequest: number }> = {};
for (const [name, run] of [
  ['components(first: 100)', () => post(real.url, LIST, { first: 100 })],
  ['component(xname)', () => post(real.url, ONE, { x: xnameOf(Math.floor(Math.random() * COUNT)) })],
] as const) {
  let units = 0;
  let bytes = 0;
  let minimum = 0;
  let calls = 0;
  const n = 100;
  for (let i = 0; i < n; i++) {
    meter.reset();
    await run();
    units += meter.units;
    bytes += meter.bytes;
    calls += meter.calls;
    minimum += minimumReadUnits(meter.bytes);
  }
  capacity[name] = { requests: n, unitsPerRequest: units / n, bytesPerRequest: Math.round(bytes / n), minimumUnitsPerRequest: minimum / n, ddbCallsPerRequest: calls / n };
}

const results: Record<string, { dynamodb: WrkResult; memory: WrkResult; ratio: number }> = {};
for (const kind of ['list', 'one'] as const) {
  const name = kind === 'list' ? 'components(first: 100)' : 'component(xname)';
  const lua = luaFor(kind);
  say(`wrk ${name}: ${SECONDS}s × 2, ${CONNECTIONS} connections`);
  await wrk(memory.url, { seconds: 2, connections: CONNECTIONS, lua });
  const mem = await wrk(memory.url, { seconds: SECONDS, connections: CONNECTIONS, lua });
  await wrk(real.url, { seconds: 2, connections: CONNECTIONS, lua });
  const ddb = await wrk(real.url, { seconds: SECONDS, connections: CONNECTIONS, lua });
  if (mem.non2xx || ddb.non2xx) throw new Error(`non-2xx responses: memory ${mem.non2xx}, dynamodb ${ddb.non2xx}`);
  results[name] = { dynamodb: ddb, memory: mem, ratio: ddb.requestsPerSecond / mem.requestsPerSecond };
}

await real.close();
await memory.close();
await auth.stop();
await dynamo.stop();

const lines = [
  `gateway over ${COUNT} components (DynamoDB Local vs in-memory map, same Apollo server), ${CONNECTIONS} connections, ${SECONDS}s each`,
  'query                    | DynamoDB req/s  p50 ms  p99 ms | memory req/s  p50 ms  p99 ms | ratio',
  ...Object.entries(results).map(
    ([n, r]) =>
      `${n.padEnd(24)} | ${r.dynamodb.requestsPerSecond.toFixed(0).padStart(12)} ${r.dynamodb.p50ms.toFixed(2).padStart(7)} ${r.dynamodb.p99ms.toFixed(2).padStart(7)} | ${r.memory.requestsPerSecond.toFixed(0).padStart(12)} ${r.memory.p50ms.toFixed(2).padStart(7)} ${r.memory.p99ms.toFixed(2).padStart(7)} | ${r.ratio.toFixed(2)}`,
  ),
  '',
  'query                    | RCU/request  minimum RCU for the bytes  bytes read  DynamoDB calls',
  ...Object.entries(capacity).map(([n, k]) => `${n.padEnd(24)} | ${k.unitsPerRequest.toFixed(2).padStart(11)} ${k.minimumUnitsPerRequest.toFixed(2).padStart(26)} ${String(k.bytesPerRequest).padStart(11)} ${k.ddbCallsPerRequest.toFixed(1).padStart(15)}`),
];
console.log(lines.join('\n'));
say(`written ${writeReport('gateway', { components: COUNT, seconds: SECONDS, connections: CONNECTIONS, results, capacity })}`);
