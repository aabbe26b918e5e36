/**
 * The peer for bench/coldstart: the smallest Apollo Server Lambda handler there is, as Apollo's
 * documentation writes it (one `hello` field, @as-integrations/aws-lambda, API Gateway payload
 * v2 as the gateway), so the ratio shows what Skyboot's schema, plugins, auth and Lambda client
 * add to a stock Apollo Lambda's cold start. It keeps what a stock one carries: the integration's
 * CommonJS copy of Apollo Server and Apollo's optional plugins (the gateway has neither:
 * gateway/apiGatewayV2.ts, cdk/lib/bundling.ts UNUSED_APOLLO_PLUGINS).
 */
import { ApolloServer } from '@apollo/server';
import { handlers, startServerAndCreateLambdaHandler } from '@as-integrations/aws-lambda';

const server = new ApolloServer({
  typeDefs: 'type Query { hello: String! }',
  resolvers: { Query: { hello: () => 'world' } },
});

type LambdaApollo = Parameters<typeof startServerAndCreateLambdaHandler>[0];

export const handler = startServerAndCreateLambdaHandler(server as unknown as LambdaApollo, handlers.createAPIGatewayProxyEventV2RequestHandler());
