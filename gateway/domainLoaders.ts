/**
 * Per-request batching: every resolver call for one domain in the same tick becomes one
 * invoke (a list of 100 nodes asking for their hardware is one Lambda call, not 100).
 * Caching is off so two identical mutations in one request both run.
 */
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import type { DomainCall } from '../functions/shared/handler.js';
import type { Identity } from '../functions/shared/identity.js';
import type { Invoker } from './invoker.js';

export type DomainLoaders = (domain: string) => DataLoader<DomainCall, unknown>;

export function domainLoaders(invoker: Invoker, identity: Identity, requestId: string): DomainLoaders {
  const loaders = new Map<string, DataLoader<DomainCall, unknown>>();
  return (domain) => {
    let loader = loaders.get(domain);
    if (!loader) {
      loader = new DataLoader<DomainCall, unknown>(
        async (calls) => {
          const { results } = await invoker.invoke({ domain, identity, requestId, calls: [...calls] });
          return results.map((r) =>
            r.ok
              ? r.value
              : new GraphQLError(r.error.message, { extensions: { code: r.error.code, ...(r.error.field ? { field: r.error.field } : {}) } }),
          );
        },
        { cache: false, maxBatchSize: 500 },
      );
      loaders.set(domain, loader);
    }
    return loader;
  };
}
