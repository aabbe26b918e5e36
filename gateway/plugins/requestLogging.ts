/**
 * One structured log line per GraphQL request, keyed by the request id that the HTTP entry
 * (x-request-id) or API Gateway assigned and that every domain invoke carries, so one id
 * follows a request from the API to each Lambda.
 */
import type { ApolloServerPlugin } from '@apollo/server';
import { logger } from '../../functions/shared/logger.js';
import type { GatewayContext } from '../context.js';

export function requestLogging(): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = Date.now();
      return {
        async willSendResponse({ operationName, errors }) {
          logger.info('graphql request', {
            requestId: contextValue.requestId,
            subject: contextValue.identity.subject,
            roles: contextValue.identity.roles,
            operationName: operationName ?? null,
            durationMs: Date.now() - started,
            errorCodes: (errors ?? []).map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR')),
          });
        },
      };
    },
  };
}
