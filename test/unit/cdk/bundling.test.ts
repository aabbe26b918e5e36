/**
 * The one test that really bundles: the gateway and one domain function, through the same
 * SkybootFunction construct the stack uses (local esbuild, no Docker). Checks the handler
 * files the stack points at exist, the bundles stay small, the gateway carries its schema and
 * none of the code it never runs (domain handlers, Apollo's unused plugins), and the bundles
 * load as ES modules in a fresh Node process, where the gateway answers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { BUNDLE_FILE } from '../../../cdk/lib/bundling.js';
import { SkybootFunction } from '../../../cdk/lib/functions.js';
import { ALL_HANDLERS, DOMAIN_HANDLERS, GATEWAY, REPO_ROOT, type HandlerSpec } from '../../../cdk/lib/handlers.js';

/**
 * Bounds on the minified bundle (index.mjs). The gateway's is the cold-start goal (issue #14:
 * 1 MB); it was 2.2 MiB while it bundled every domain, and is about 850 KiB (Apollo Server,
 * graphql-js, graphql-armor, jose and the Lambda client). Inventory was 534 KiB. Crossing a
 * bound means a heavy dependency slipped in: look before raising it.
 */
const MAX_GATEWAY_BYTES = 1_000_000;
const MAX_DOMAIN_BYTES = 1024 * 1024;

function missingEntries(specs: readonly HandlerSpec[]): string[] {
  return specs.map((s) => s.entry).filter((entry) => !existsSync(join(REPO_ROOT, entry)));
}

test('every handler file the stack points at exists', () => {
  expect({ missing: missingEntries(ALL_HANDLERS) }).toEqual({ missing: [] });
});

describe('real bundling (esbuild, local)', () => {
  // Under the repo (cdk.out is git-ignored) so any external import would resolve from node_modules, as it would on Lambda.
  const outRoot = join(REPO_ROOT, 'cdk.out');
  let outdir: string;
  const assets: Record<string, string> = {};

  beforeAll(() => {
    const missing = missingEntries([GATEWAY, DOMAIN_HANDLERS.inventory]);
    if (missing.length) throw new Error(`cannot bundle: handler file(s) missing: ${missing.join(', ')}`);
    mkdirSync(outRoot, { recursive: true });
    outdir = mkdtempSync(join(outRoot, 'test-bundling-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Bundling', { env: { account: '123456789012', region: 'eu-west-1' } });
    const fns = {
      gateway: new SkybootFunction(stack, 'gateway', { spec: GATEWAY, name: 'gateway', description: 'bundling test', environment: {} }),
      inventory: new SkybootFunction(stack, 'inventory', { spec: DOMAIN_HANDLERS.inventory, name: 'inventory', description: 'bundling test', environment: {} }),
    };
    app.synth({ validateOnSynthesis: false });
    for (const [name, f] of Object.entries(fns)) {
      const code = stack.resolve((f.fn.node.defaultChild as CfnFunction).code) as { s3Key: string };
      assets[name] = join(outdir, `asset.${code.s3Key.replace(/\.zip$/, '')}`);
    }
  }, 240_000);

  afterAll(() => {
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  test('the gateway bundle is an ES module under the size bound, with its source map and schema files', () => {
    const dir = assets.gateway!;
    const size = statSync(join(dir, BUNDLE_FILE)).size;
    expect({ size, under: size < MAX_GATEWAY_BYTES }).toEqual({ size, under: true });
    expect(existsSync(join(dir, `${BUNDLE_FILE}.map`))).toBe(true);
    const schemaFiles = readdirSync(join(dir, 'schema'));
    const sourceFiles = readdirSync(join(REPO_ROOT, 'schema')).filter((f) => f.endsWith('.graphql'));
    expect(schemaFiles.sort()).toEqual(sourceFiles.sort());
  });

  test('the gateway bundle holds no domain code and none of Apollo\'s unused plugins (their protobuf)', () => {
    const { sources } = JSON.parse(readFileSync(join(assets.gateway!, `${BUNDLE_FILE}.map`), 'utf8')) as { sources: string[] };
    const unwanted = sources.filter((s) => /functions\/(inventory|boot|images|sites|orchestration)\/(?!manifest\.ts$)|protobuf|@aws-sdk\/client-(dynamodb|s3)\//.test(s));
    expect(unwanted).toEqual([]);
    // The check above would pass on an empty map: the manifests and Apollo's ES build are there.
    expect(sources.some((s) => s.endsWith('functions/inventory/manifest.ts'))).toBe(true);
    expect(sources.some((s) => s.endsWith('@apollo/server/src/ApolloServer.ts'))).toBe(true);
  });

  test('the inventory bundle carries its AWS SDK (no bare @aws-sdk imports) and stays under its bound', () => {
    const file = join(assets.inventory!, BUNDLE_FILE);
    const size = statSync(file).size;
    expect({ size, under: size < MAX_DOMAIN_BYTES }).toEqual({ size, under: true });
    expect(readFileSync(file, 'utf8')).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(existsSync(join(assets.inventory!, 'schema'))).toBe(false);
  });

  const loadsIn = (dir: string, env: Record<string, string>, then = 'console.log(typeof m.handler);') => {
    const url = pathToFileURL(join(dir, BUNDLE_FILE)).href;
    return execFileSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', `const m = await import(${JSON.stringify(url)}); ${then}`], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', NODE_ENV: 'production', SKYBOOT_LOG_LEVEL: 'SILENT', ...env },
      encoding: 'utf8',
    }).trim();
  };

  test('both bundles load as ES modules in a fresh Node process and export handler (the require banner works)', () => {
    expect(loadsIn(assets.inventory!, { SKYBOOT_TABLE: 't', SKYBOOT_BUCKET: 'b' })).toBe('function');
    // The gateway builds its schema at init from SKYBOOT_SCHEMA_DIR: the copied files must be complete and valid.
    expect(loadsIn(assets.gateway!, gatewayEnv())).toBe('function');
  });

  const gatewayEnv = () => {
    const pool = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_TEST';
    return {
      SKYBOOT_SCHEMA_DIR: join(assets.gateway!, 'schema'),
      SKYBOOT_INVOKER: 'lambda',
      SKYBOOT_JWT_ISSUER: pool,
      SKYBOOT_JWKS_URL: `${pool}/.well-known/jwks.json`,
      SKYBOOT_USER_POOL_ID: 'eu-west-1_TEST',
    };
  };

  test('the gateway bundle starts Apollo and answers an API Gateway v2 event (no token: 401, before any network)', () => {
    const event = {
      version: '2.0', routeKey: 'POST /graphql', rawPath: '/graphql', rawQueryString: '',
      headers: { 'content-type': 'application/json' },
      requestContext: { http: { method: 'POST', path: '/graphql' }, requestId: 'bundle-1' },
      body: JSON.stringify({ query: '{ whoami { subject } }' }),
      isBase64Encoded: false,
    };
    const out = loadsIn(assets.gateway!, gatewayEnv(), `const r = await m.handler(${JSON.stringify(event)}, { awsRequestId: 'aws-1' }); console.log(JSON.stringify({ status: r.statusCode, code: JSON.parse(r.body).errors[0].extensions.code }));`);
    expect(JSON.parse(out)).toEqual({ status: 401, code: 'UNAUTHENTICATED' });
  });
});
