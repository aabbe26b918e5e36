/**
 * Cold start of the deployed gateway against a hello-world Apollo Lambda, measured in one run.
 *
 * Both handlers are bundled with the stack's own esbuild settings (cdk/lib/bundling.ts). For
 * each, a fresh Node process (with --enable-source-maps, as the functions run) imports the
 * bundle and reports how long the import took: that is the module-init part of a Lambda cold
 * start (runtime boot and code download come on top; the two bundles are about the same size).
 * Before any timing, each bundle answers a probe request in a fresh process, so one that loads
 * but cannot serve is refused. Runs alternate between the bundles so machine load hits all
 * alike; medians are reported. A third bundle, the
 * gateway with the AWS SDK left external (loaded from node_modules, as Lambda would load the
 * runtime's copy), shows why the stack bundles the SDK; the deployed gateway run without
 * --enable-source-maps shows what readable stack traces cost.
 *
 *   node --import tsx bench/coldstart/run.ts [--runs 15]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { BUNDLE_FILE, esbuildOptions } from '../../cdk/lib/bundling.js';
import { DOMAINS, GATEWAY, REPO_ROOT, SCHEMA_BUNDLE_DIR, functionEnvName, type HandlerSpec } from '../../cdk/lib/handlers.js';

// The peer is a stock Apollo Server: its optional plugins stay in, as in any Apollo Lambda.
const HELLO: HandlerSpec = { ...GATEWAY, entry: 'bench/coldstart/hello.ts', needsSchema: false, apolloPluginsDisabled: false };
/** The alternative the stack does not deploy: @aws-sdk/* left to the runtime (see cdk/lib/handlers.ts SdkSource). */
const GATEWAY_RUNTIME_SDK: HandlerSpec = { ...GATEWAY, sdk: 'runtime' };
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
// Under the repo so the bundles' external @aws-sdk/* imports resolve from node_modules, as they do from the Lambda runtime.
const OUT = join(REPO_ROOT, 'bench', 'out', 'coldstart');

interface Bundle { name: string; dir: string; file: string; bytes: number; gzipBytes: number; env: Record<string, string>; nodeFlags: string[]; probe: { query: string; status: number } }

async function bundle(name: string, spec: HandlerSpec, env: Record<string, string>, probeQuery: Bundle['probe']): Promise<Bundle> {
  const entry = join(REPO_ROOT, spec.entry);
  if (!existsSync(entry)) throw new Error(`bench/coldstart needs ${spec.entry}, which does not exist`);
  const dir = join(OUT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await build(esbuildOptions(spec, dir));
  if (spec.needsSchema) {
    // What the stack's afterBundling hook does (cdk/lib/bundling.ts schemaCopyCommands).
    mkdirSync(join(dir, SCHEMA_BUNDLE_DIR));
    for (const f of readdirSync(join(REPO_ROOT, 'schema')).filter((f) => f.endsWith('.graphql'))) {
      copyFileSync(join(REPO_ROOT, 'schema', f), join(dir, SCHEMA_BUNDLE_DIR, f));
    }
  }
  const file = join(dir, BUNDLE_FILE);
  // The functions run with NODE_OPTIONS=--enable-source-maps (cdk/lib/functions.ts).
  return { name, dir, file, bytes: statSync(file).size, gzipBytes: gzipSync(readFileSync(file)).length, env, nodeFlags: ['--enable-source-maps'], probe: probeQuery };
}

/** One fresh process: milliseconds spent importing the bundle (module evaluation included). */
function initOnce(b: Bundle): number {
  return Number(runBundle(b, '').split(' ')[0]);
}

/**
 * A POST of `query` as API Gateway (payload v2) delivers it, without a token: the hello world
 * answers it, the gateway refuses it with 401 before any network call. Either way Apollo has
 * started, so a bundle that loads but cannot serve (a plugin left out that its server needs)
 * is caught before it is timed.
 */
const probeEvent = (query: string) => ({
  version: '2.0', routeKey: 'POST /graphql', rawPath: '/graphql', rawQueryString: '',
  headers: { 'content-type': 'application/json' },
  requestContext: { http: { method: 'POST', path: '/graphql' }, requestId: 'bench-probe' },
  body: JSON.stringify({ query }), isBase64Encoded: false,
});

function probe(b: Bundle): number {
  const call = `const r = await m.handler(${JSON.stringify(probeEvent(b.probe.query))}, { awsRequestId: 'bench' }); process.stdout.write(' ' + r.statusCode);`;
  return Number(runBundle(b, call).split(' ')[1]);
}

function runBundle(b: Bundle, then: string): string {
  const script = `const t0 = performance.now(); const m = await import(${JSON.stringify(pathToFileURL(b.file).href)}); const t = performance.now() - t0;
if (typeof m.handler !== 'function') throw new Error('no handler export'); process.stdout.write(String(t)); ${then}`;
  return execFileSync(process.execPath, [...b.nodeFlags, '--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...b.env },
    encoding: 'utf8',
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

// The AWS SDK warns once (process.emitWarning) when it runs on Node < 22, as it does here on
// Node 20; the Lambda runs nodejs22.x and never warns, so the bench measures without it.
const common = { AWS_REGION: 'eu-west-1', NODE_ENV: 'production', SKYBOOT_LOG_LEVEL: 'SILENT', LOG_LEVEL: 'SILENT', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
const pool = 'eu-west-1_BENCH0000';
const gatewayEnv = {
  ...common,
  SKYBOOT_TABLE: 'skyboot-bench',
  SKYBOOT_BUCKET: 'skyboot-bench',
  SKYBOOT_DEFAULT_SITE: 'default',
  SKYBOOT_INVOKER: 'lambda',
  SKYBOOT_SCHEMA_DIR: join(OUT, 'gateway', SCHEMA_BUNDLE_DIR),
  SKYBOOT_USER_POOL_ID: pool,
  SKYBOOT_JWT_ISSUER: `https://cognito-idp.eu-west-1.amazonaws.com/${pool}`,
  SKYBOOT_JWKS_URL: `https://cognito-idp.eu-west-1.amazonaws.com/${pool}/.well-known/jwks.json`,
  ...Object.fromEntries(DOMAINS.map((d) => [functionEnvName(d), `skyboot-${d}`])),
};

const unauthenticated = { query: '{ whoami { subject } }', status: 401 };
const gateway = await bundle('gateway', GATEWAY, gatewayEnv, unauthenticated);
const gatewayRuntimeSdk = await bundle('gateway-runtime-sdk', GATEWAY_RUNTIME_SDK, { ...gatewayEnv, SKYBOOT_SCHEMA_DIR: join(OUT, 'gateway-runtime-sdk', SCHEMA_BUNDLE_DIR) }, unauthenticated);
const hello = await bundle('hello', HELLO, common, { query: '{ hello }', status: 200 });
// The deployed bundle without --enable-source-maps: what readable stack traces cost at init.
const gatewayNoSourceMaps: Bundle = { ...gateway, name: 'gateway-no-sourcemaps', nodeFlags: [] };
const all = [gateway, gatewayRuntimeSdk, gatewayNoSourceMaps, hello];

const loadBefore = loadavg().map((x) => round(x, 2));
// One untimed run each, which also answers a request: the first run pays for the OS file cache, not for our code.
for (const b of all) {
  const status = probe(b);
  if (status !== b.probe.status) throw new Error(`${b.name} answered ${status} to ${b.probe.query}, not ${b.probe.status}: the bundle does not serve`);
}
const samples: Record<string, number[]> = Object.fromEntries(all.map((b) => [b.name, []]));
for (let i = 0; i < RUNS; i++) for (const b of all) samples[b.name]!.push(initOnce(b));

const loadAfter = loadavg().map((x) => round(x, 2));
/** Issue #14's goal for the deployed gateway: a bundle of at most 1 MB, init at most 1.5 times the hello world's. */
const GOAL = { bytes: 1_000_000, initRatio: 1.5 };

const result = {
  runs: RUNS,
  node: process.version,
  loadAverage: { before: loadBefore, after: loadAfter },
  bundling: 'cdk/lib/bundling.ts (esm, minify, sourcemap, target node22, AWS SDK bundled, unused Apollo plugins left out)',
  ...Object.fromEntries(all.map((b) => [b.name, {
    bytes: b.bytes,
    gzipBytes: b.gzipBytes,
    initMsMedian: round(median(samples[b.name]!)),
    initMs: samples[b.name]!.map((x) => round(x)),
  }])),
  ratio: {
    bytes: round(gateway.bytes / hello.bytes, 2),
    initMs: round(median(samples.gateway!) / median(samples.hello!), 2),
    runtimeSdkInitMs: round(median(samples['gateway-runtime-sdk']!) / median(samples.gateway!), 2),
    sourceMapsInitMs: round(median(samples.gateway!) / median(samples['gateway-no-sourcemaps']!), 2),
  },
};

mkdirSync(join(REPO_ROOT, 'bench', 'out'), { recursive: true });
writeFileSync(join(REPO_ROOT, 'bench', 'out', 'coldstart.json'), `${JSON.stringify(result, null, 2)}\n`);
const kib = (n: number) => `${round(n / 1024)} KiB`;
for (const b of all) {
  console.log(`${b.name.padEnd(22)} bundle ${kib(b.bytes).padStart(11)} (gzip ${kib(b.gzipBytes)})   init ${round(median(samples[b.name]!))} ms median of ${RUNS}`);
}
console.log(`gateway / hello: bundle ${result.ratio.bytes}x, init ${result.ratio.initMs}x`);
const met = (ok: boolean) => (ok ? 'met' : 'NOT met');
console.log(`goal: bundle <= ${GOAL.bytes.toLocaleString('en')} bytes (${gateway.bytes.toLocaleString('en')}: ${met(gateway.bytes <= GOAL.bytes)}), init <= ${GOAL.initRatio}x hello (${result.ratio.initMs}x: ${met(result.ratio.initMs <= GOAL.initRatio)})`);
console.log(`load average (1, 5, 15 min): ${loadBefore.join(', ')} before, ${loadAfter.join(', ')} after`);
console.log(`gateway with the runtime's SDK: init ${result.ratio.runtimeSdkInitMs}x the deployed one; source maps cost ${result.ratio.sourceMapsInitMs}x at init`);
console.log('wrote bench/out/coldstart.json');
