/**
 * The gateway's Lambda entry (API Gateway HTTP API, payload v2). Resolvers reach domains
 * through Lambda invokes; tokens are verified against the Cognito pool's JWKS.
 */
import { startServerAndCreateLambdaHandler, handlers } from '@as-integrations/aws-lambda';
import { buildGateway } from './server.js';
import { buildContext } from './context.js';
import { lambdaInvoker } from './invoker.js';
import { verifierFromEnv } from './auth/fromEnv.js';

const apollo = buildGateway();
const invoker = lambdaInvoker();
const verify = verifierFromEnv();

// The integration is typed against Apollo's CJS build; at run time it only calls the server's public methods.
type LambdaApollo = Parameters<typeof startServerAndCreateLambdaHandler>[0];

export const handler = startServerAndCreateLambdaHandler(apollo as unknown as LambdaApollo, handlers.createAPIGatewayProxyEventV2RequestHandler(), {
  context: async ({ event, context }) =>
    buildContext(verify, invoker, event.headers?.authorization ?? event.headers?.Authorization, event.requestContext?.requestId ?? context.awsRequestId),
});
