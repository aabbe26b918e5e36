import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { freshAws, type TestAws } from '../../support/aws.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { startAuthServer, CLI_CLIENT_ID, type AuthServer } from '../../../local/authServer.js';
import { pkceLogin } from '../../support/oauthBrowser.js';
import { domains } from '../../../gateway/domains.js';
import { inProcessInvoker, lambdaInvoker } from '../../../gateway/invoker.js';
import { PayloadTooLargeError } from '../../../gateway/payloadLimits.js';
import { LambdaClient } from '@aws-sdk/client-lambda';
import type { DomainEvent } from '../../../functions/shared/handler.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The gateway's Lambda entry end to end: an API Gateway HTTP API v2 event in, resolvers
 * reaching domains through @aws-sdk/client-lambda. Lambda's Invoke API cannot run here, so a
 * loopback server speaks it (POST /2015-03-31/functions/<name>/invocations) and runs the named
 * domain's real handler; everything else is real (JWT verification, DynamoDB Local).
 * The emulation applies the Invoke API's payload limits with AWS's own numbers and answers
 * (RequestEntityTooLargeException over 6,291,456 request bytes; Function.ResponseSizeTooLarge
 * over 6,291,556 response bytes), written out here rather than imported from the gateway.
 */
describe('gateway Lambda entry (Lambda Invoke API emulated on loopback)', () => {
  let aws: TestAws;
  let lambdaApi: Server;
  const invocations: { name: string; calls: number }[] = [];
  let token: string;
  let auth: AuthServer;

  beforeAll(async () => {
    aws = await freshAws('lambda');
    lambdaApi = createServer((req, res) => {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(req.url ?? '');
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const name = decodeURIComponent(m?.[1] ?? '');
        const reg = domains.find((d) => `skyboot-${d.manifest.domain}` === name);
        if (!m || !reg) {
          res.writeHead(404, { 'x-amzn-errortype': 'ResourceNotFoundException' }).end(JSON.stringify({ message: `Function not found: ${name}` }));
          return;
        }
        const request = Buffer.concat(chunks);
        if (request.byteLength > 6_291_456) {
          res
            .writeHead(413, { 'content-type': 'application/json', 'x-amzn-errortype': 'RequestEntityTooLargeException' })
            .end(JSON.stringify({ Type: 'User', message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' }));
          return;
        }
        const event = JSON.parse(request.toString()) as DomainEvent;
        invocations.push({ name, calls: event.calls.length });
        const result = JSON.stringify(await (await reg.load())(event));
        const bytes = Buffer.byteLength(result);
        if (bytes > 6_291_556) {
          res
            .writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST', 'x-amz-function-error': 'Unhandled' })
            .end(JSON.stringify({ errorType: 'Function.ResponseSizeTooLarge', errorMessage: `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (6291556 bytes).` }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' }).end(result);
      });
    });
    await new Promise<void>((r) => lambdaApi.listen(0, '127.0.0.1', () => r()));
    // The deployed verifier's configuration (verifierFromEnv): issuer and JWKS URL, as for Cognito.
    auth = await startAuthServer({ dataDir: mkdtempSync(join(tmpdir(), 'lambda-auth-')), port: 0 });
    const admin = auth.users.find((u) => u.username === 'admin')!;
    token = (await pkceLogin({ authorizationEndpoint: auth.authorizationEndpoint, tokenEndpoint: auth.tokenEndpoint, clientId: CLI_CLIENT_ID, username: admin.username, password: admin.password })).access_token;
    process.env.AWS_ENDPOINT_URL_LAMBDA = `http://127.0.0.1:${(lambdaApi.address() as AddressInfo).port}`;
    process.env.SKYBOOT_JWT_ISSUER = auth.issuer;
    process.env.SKYBOOT_JWKS_URL = auth.jwksUri;
    process.env.SKYBOOT_CLIENT_REGISTRATION_TOKEN = auth.registrationToken;
    process.env.SKYBOOT_AGENT_CREDENTIALS = 'local';
    for (const d of domains) process.env[`SKYBOOT_FUNCTION_${d.manifest.domain.toUpperCase()}`] = `skyboot-${d.manifest.domain}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => lambdaApi.close(() => r()));
    await auth.stop();
    await aws.dispose();
  });

  function event(body: unknown, authorization?: string): APIGatewayProxyEventV2 {
    return {
      version: '2.0',
      routeKey: 'POST /graphql',
      rawPath: '/graphql',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      requestContext: {
        accountId: '123456789012',
        apiId: 'api',
        domainName: 'api.example.com',
        domainPrefix: 'api',
        http: { method: 'POST', path: '/graphql', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
        requestId: 'req-1',
        routeKey: 'POST /graphql',
        stage: '$default',
        time: '21/Nov/2026:00:00:00 +0000',
        timeEpoch: 0,
      },
      body: JSON.stringify(body),
      isBase64Encoded: false,
    };
  }

  it('answers a GraphQL request, one invoke per domain, and refuses a request without a token', async () => {
    const { handler } = await import('../../../gateway/lambda.js');
    const ctx = { awsRequestId: 'aws-1' } as Context;
    const created = (await handler(event({ query: 'mutation { createSite(input: { name: "lambda-site" }) { site { name } } }' }, `Bearer ${token}`), ctx)) as { statusCode: number; body: string };
    expect(created.statusCode).toBe(200);
    expect(JSON.parse(created.body)).toEqual({ data: { createSite: { site: { name: 'lambda-site' } } } });
    invocations.length = 0;
    const listed = (await handler(event({ query: '{ a: sites { name } b: site(name: "lambda-site") { name } c: sites { name } }' }, `Bearer ${token}`), ctx)) as { statusCode: number; body: string };
    expect(JSON.parse(listed.body).data.b).toEqual({ name: 'lambda-site' });
    expect(invocations).toEqual([{ name: 'skyboot-sites', calls: 3 }]);
    const anonymous = (await handler(event({ query: '{ sites { name } }' }), ctx)) as { statusCode: number; body: string };
    expect(anonymous.statusCode).toBe(401);
    expect(JSON.parse(anonymous.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  /**
   * A node whose merged cloud-init is about 500 KB (250 KB of group metaData, 250 KB of its
   * own), asked for 13 times in one request: the boot domain's one batched invoke answers
   * about 6.5 MB, over Lambda's response limit. Both paths must refuse it with one message.
   */
  async function oversizedCloudInit(gql: (query: string) => Promise<{ data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] }>) {
    const setup = [
      'mutation { upsertComponents(input: [{ xname: "x3000c0s9b0n0", role: COMPUTE }]) { errors { message } } }',
      'mutation { createGroup(input: { label: "bigmeta" }) { label } }',
      'mutation { addGroupMembers(label: "bigmeta", xnames: ["x3000c0s9b0n0"]) { changed } }',
      `mutation { setCloudInit(input: { group: "bigmeta", metaData: { fromGroup: "${'g'.repeat(250_000)}" } }) { scope } }`,
      `mutation { setCloudInit(input: { xname: "x3000c0s9b0n0", metaData: { fromNode: "${'n'.repeat(250_000)}" } }) { scope } }`,
    ];
    for (const q of setup) expect((await gql(q)).errors).toBeUndefined();
    const aliases = Array.from({ length: 13 }, (_, i) => `a${i}: cloudInitFor(xname: "x3000c0s9b0n0") { metaData }`).join(' ');
    const one = await gql('{ cloudInitFor(xname: "x3000c0s9b0n0") { metaData } }');
    expect(JSON.stringify(one.data).length).toBeGreaterThan(500_000);
    return gql(`{ ${aliases} }`);
  }

  it('refuses a 6.5 MB domain response through Lambda exactly as in-process', async () => {
    const { handler } = await import('../../../gateway/lambda.js');
    const ctx = { awsRequestId: 'aws-2' } as Context;
    const viaLambda = await oversizedCloudInit(async (query) => JSON.parse(((await handler(event({ query }, `Bearer ${token}`), ctx)) as { body: string }).body));
    let gw: TestGateway | undefined;
    try {
      gw = await startTestGateway();
      const g = gw;
      const inProcess = await oversizedCloudInit((query) => g.gql(query));
      const refusal = (r: Awaited<typeof viaLambda>) => r.errors?.map((e) => ({ message: e.message, code: e.extensions?.code, limitBytes: e.extensions?.limitBytes }));
      expect(refusal(viaLambda)?.[0]).toEqual({
        message: expect.stringMatching(/^boot invoke failed: Response payload size \(\d+ bytes\) exceeded maximum allowed payload size \(6291556 bytes\)\. \(Function\.ResponseSizeTooLarge\)$/),
        code: 'PAYLOAD_TOO_LARGE',
        limitBytes: 6_291_556,
      });
      expect(refusal(inProcess)).toEqual(refusal(viaLambda));
      // cloudInitFor is non-null, so the first refusal nulls the whole answer.
      expect(viaLambda.data).toBeNull();
      expect(inProcess.errors?.[0]?.extensions?.bytes).toBe(viaLambda.errors?.[0]?.extensions?.bytes);
    } finally {
      await gw?.close();
    }
  });

  it('refuses a 6.1 MB invoke request through Lambda exactly as in-process', async () => {
    // The gateway batches calls per domain, so one invoke can carry more than any one body;
    // here one call with 6.4 MB (6.1 MiB) of arguments.
    const big: DomainEvent = {
      domain: 'boot',
      identity: { subject: 'lambda-admin', roles: ['admin'], site: null },
      requestId: 'req-big',
      calls: [{ operation: 'setCloudInit', args: { input: { group: 'huge', userData: 'u'.repeat(6_400_000) } } }],
    };
    const viaLambda = lambdaInvoker(new LambdaClient({ endpoint: process.env.AWS_ENDPOINT_URL_LAMBDA, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } }));
    const inProcess = inProcessInvoker(domains);
    const lambdaError = await viaLambda.invoke(big).then(() => undefined, (e: unknown) => e);
    const inProcessError = await inProcess.invoke(big).then(() => undefined, (e: unknown) => e);
    expect(lambdaError).toBeInstanceOf(PayloadTooLargeError);
    expect((lambdaError as Error).message).toMatch(/^boot invoke refused: Request must be smaller than 6291456 bytes for the InvokeFunction operation \(RequestEntityTooLargeException\); the request is 64\d{5} bytes$/);
    expect((inProcessError as Error).message).toBe((lambdaError as Error).message);
    expect(inProcessError).toBeInstanceOf(PayloadTooLargeError);
  });
});
