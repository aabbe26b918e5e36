/**
 * The gateway's API Gateway v2 adapter against a real Apollo Server: what the Lambda entry
 * answers for JSON, base64, GET and malformed requests, and the context it builds per event.
 */
import { ApolloServer } from '@apollo/server';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { apiGatewayV2Handler } from '../../../gateway/apiGatewayV2.js';

interface Ctx { caller: string; requestId: string }

const server = new ApolloServer<Ctx>({
  typeDefs: 'type Query { caller: String! echo(text: String!): String! }',
  resolvers: { Query: { caller: (_s: unknown, _a: unknown, ctx: Ctx) => `${ctx.caller}/${ctx.requestId}`, echo: (_s: unknown, a: { text: string }) => a.text } },
  csrfPrevention: true,
});
const handler = apiGatewayV2Handler(server, async ({ event, context }) => ({ caller: event.headers.authorization ?? 'nobody', requestId: context.awsRequestId }));
const ctx = { awsRequestId: 'aws-7' } as Context;

afterAll(() => server.stop());

function event(init: { method?: string; body?: string; base64?: boolean; query?: string; headers?: Record<string, string> }): APIGatewayProxyEventV2 {
  const method = init.method ?? 'POST';
  return {
    version: '2.0',
    routeKey: `${method} /graphql`,
    rawPath: '/graphql',
    rawQueryString: init.query ?? '',
    headers: init.headers ?? { 'content-type': 'application/json' },
    requestContext: {
      accountId: '123456789012', apiId: 'api', domainName: 'api.example.com', domainPrefix: 'api',
      http: { method, path: '/graphql', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req-1', routeKey: `${method} /graphql`, stage: '$default', time: '02/Dec/2026:00:00:00 +0000', timeEpoch: 0,
    },
    ...(init.body === undefined ? {} : { body: init.body }),
    isBase64Encoded: init.base64 ?? false,
  };
}

test('a JSON POST is answered with the context built from the event, its length in content-length', async () => {
  const res = await handler(event({ body: JSON.stringify({ query: '{ caller }' }), headers: { 'content-type': 'application/json', authorization: 'Bearer t' } }), ctx);
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body!)).toEqual({ data: { caller: 'Bearer t/aws-7' } });
  expect(res.headers?.['content-length']).toBe(String(Buffer.byteLength(res.body!)));
  expect(res.headers?.['content-type']).toMatch(/^application\/graphql-response\+json|^application\/json/);
});

test('a base64-encoded body is decoded first', async () => {
  const body = Buffer.from(JSON.stringify({ query: '{ echo(text: "é ok") }' })).toString('base64');
  const res = await handler(event({ body, base64: true }), ctx);
  expect(JSON.parse(res.body!)).toEqual({ data: { echo: 'é ok' } });
});

test('a GET carries its operation in the query string (CSRF prevention wants a preflight header)', async () => {
  const query = `query=${encodeURIComponent('{ echo(text: "get") }')}`;
  const refused = await handler(event({ method: 'GET', query, headers: {} }), ctx);
  expect(refused.statusCode).toBe(400);
  const res = await handler(event({ method: 'GET', query, headers: { 'apollo-require-preflight': 'true' } }), ctx);
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body!)).toEqual({ data: { echo: 'get' } });
});

test('a body that is not JSON is a 400 naming the parse error; an unknown content type reaches Apollo with no body', async () => {
  const broken = await handler(event({ body: '{"query":' }), ctx);
  expect(broken.statusCode).toBe(400);
  expect(broken.body).toMatch(/JSON/);
  const other = await handler(event({ body: 'query=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), ctx);
  expect(other.statusCode).toBe(400);
});
