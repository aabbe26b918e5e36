/**
 * API Gateway HTTP API (payload v2) events in, Apollo's HTTP requests out: what
 * @as-integrations/aws-lambda's v2 handler does, on Apollo's ES module build. That package is
 * CommonJS and require()s @apollo/server, which resolves to Apollo's CommonJS build; bundled
 * beside the ES build the gateway itself imports, the Lambda carried two copies of Apollo Server
 * and of everything under it (protobuf, lru-cache, graphql-tools), about 230 KiB, and evaluated
 * both at every cold start.
 */
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest, type HTTPGraphQLResponse } from '@apollo/server';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type ApiGatewayV2Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

export type LambdaContextFunction<C extends BaseContext> = (args: { event: APIGatewayProxyEventV2; context: Context }) => Promise<C>;

export function httpGraphQLRequest(event: APIGatewayProxyEventV2): HTTPGraphQLRequest {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(event.headers ?? {})) headers.set(key, value ?? '');
  return { method: event.requestContext.http.method, headers, search: event.rawQueryString, body: parseBody(event, headers) };
}

// As the integration: JSON and plain-text bodies only; Apollo refuses the rest itself.
function parseBody(event: APIGatewayProxyEventV2, headers: HeaderMap): unknown {
  if (!event.body) return '';
  const contentType = headers.get('content-type');
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (contentType?.startsWith('application/json')) return JSON.parse(text);
  if (contentType?.startsWith('text/plain')) return text;
  return '';
}

export function lambdaResult({ body, headers, status }: HTTPGraphQLResponse): APIGatewayProxyStructuredResultV2 {
  // Incremental delivery (@defer/@stream) needs a streamed response, which this integration is not.
  if (body.kind !== 'complete') throw new Error('Only complete body type supported');
  return {
    statusCode: status ?? 200,
    headers: { ...Object.fromEntries(headers), 'content-length': Buffer.byteLength(body.string).toString() },
    body: body.string,
  };
}

/** Starts `server` in the background (a failed start fails every request, logged) and answers v2 events with it. */
export function apiGatewayV2Handler<C extends BaseContext>(server: ApolloServer<C>, contextFunction: LambdaContextFunction<C>): ApiGatewayV2Handler {
  server.startInBackgroundHandlingStartupErrorsByLoggingAndFailingAllRequests();
  return async (event, context) => {
    try {
      const response = await server.executeHTTPGraphQLRequest({ httpGraphQLRequest: httpGraphQLRequest(event), context: () => contextFunction({ event, context }) });
      return lambdaResult(response);
    } catch (err) {
      // A body that is not JSON, or a streamed answer: the integration's 400 with the reason.
      return { statusCode: 400, body: (err as Error).message };
    }
  };
}
