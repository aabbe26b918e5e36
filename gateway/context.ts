/** The per-request context: who is calling, and the batching loaders bound to that caller. */
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { SkybootError } from '../schema/errors.js';
import type { Identity } from '../functions/shared/identity.js';
import type { TokenVerifier } from './auth/verifier.js';
import { domainLoaders, type DomainLoaders } from './domainLoaders.js';
import type { Invoker } from './invoker.js';

export interface GatewayContext {
  identity: Identity;
  requestId: string;
  loaders: DomainLoaders;
}

export async function buildContext(
  verify: TokenVerifier,
  invoker: Invoker,
  authorization: string | undefined,
  requestId: string = randomUUID(),
): Promise<GatewayContext> {
  let identity: Identity;
  try {
    identity = await verify(authorization);
  } catch (err) {
    const message = err instanceof SkybootError ? err.message : 'invalid token';
    throw new GraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
  }
  return { identity, requestId, loaders: domainLoaders(invoker, identity, requestId) };
}
