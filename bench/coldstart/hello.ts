/**
 * The peer for bench/coldstart: the smallest Apollo Server Lambda handler there is (one
 * `hello` field, same integration and payload version as the gateway), so the ratio shows what
 * Skyboot's schema, plugins and auth add to a cold start.
 */
import { ApolloServer } from '@apollo/server';
import { handlers, startServerAndCreateLambdaHandler } from '@as-integrations/aws-lambda';

const server = new ApolloServer({
  typeDefs: 'type Query { hello: String! }',
  resolvers: { Query: { hello: () => 'world' } },
});

type LambdaApollo = Parameters<typeof startServerAndCreateLambdaHandler>[0];

export const handler = startServerAndCreateLambdaHandler(server as unknown as LambdaApollo, handlers.createAPIGatewayProxyEventV2RequestHandler());
