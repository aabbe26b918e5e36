import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { freshAws, type TestAws } from '../../support/aws.js';
import { startAuthServer, CLI_CLIENT_ID, type AuthServer } from '../../../local/authServer.js';
import { pkceLogin } from '../../support/oauthBrowser.js';
import { domains } from '../../../gateway/domains.js';
import type { DomainEvent } from '../../../functions/shared/handler.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The gateway's Lambda entry end to end: an API Gateway HTTP API v2 event in, resolvers
 * reaching domains through @aws-sdk/client-lambda. Lambda's Invoke API cannot run here, so a
 * loopback server speaks it (POST /2015-03-31/functions/<name>/invocations) and runs the named
 * domain's real handler; everything else is real (JWT verification, DynamoDB Local).
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
        const event = JSON.parse(Buffer.concat(chunks).toString()) as DomainEvent;
        invocations.push({ name, calls: event.calls.length });
        const result = await (await reg.load())(event);
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' }).end(JSON.stringify(result));
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
    const created = (await handler(event({ query: 'mutation { createSite(input: { name: "lambda-site" }) { site { name } } }' }, `Bearer ${token}`), ctx, () => undefined)) as { statusCode: number; body: string };
    expect(created.statusCode).toBe(200);
    expect(JSON.parse(created.body)).toEqual({ data: { createSite: { site: { name: 'lambda-site' } } } });
    invocations.length = 0;
    const listed = (await handler(event({ query: '{ a: sites { name } b: site(name: "lambda-site") { name } c: sites { name } }' }, `Bearer ${token}`), ctx, () => undefined)) as { statusCode: number; body: string };
    expect(JSON.parse(listed.body).data.b).toEqual({ name: 'lambda-site' });
    expect(invocations).toEqual([{ name: 'skyboot-sites', calls: 3 }]);
    const anonymous = (await handler(event({ query: '{ sites { name } }' }), ctx, () => undefined)) as { statusCode: number; body: string };
    expect(anonymous.statusCode).toBe(401);
    expect(JSON.parse(anonymous.body).errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});
