/**
 * The gateway's Lambda entry (API Gateway HTTP API, payload v2). Resolvers reach domains
 * through Lambda invokes; tokens are verified against the Cognito pool's JWKS.
 */
import { apiGatewayV2Handler } from './apiGatewayV2.js';
import { buildGateway } from './server.js';
import { buildContext } from './context.js';
import { lambdaInvoker } from './invoker.js';
import { verifierFromEnv } from './auth/fromEnv.js';

// The schema files beside the bundle are the repository's, copied at bundling; every local and
// test gateway validates the same files, so the Lambda skips SDL validation at init.
const apollo = buildGateway({ assumeValidSDL: true });
const invoker = lambdaInvoker();
const verify = verifierFromEnv();

export const handler = apiGatewayV2Handler(apollo, async ({ event, context }) =>
  buildContext(verify, invoker, event.headers?.authorization ?? event.headers?.Authorization, event.requestContext?.requestId ?? context.awsRequestId),
);
