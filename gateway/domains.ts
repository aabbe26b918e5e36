/**
 * The domains with their in-process handlers, for the local stack, tests and benchmarks. Each
 * entry pairs a domain's manifest with a loader for its handler. In AWS the Lambda invoker
 * never calls the loaders (each domain runs in its own function with its own IAM role), and the
 * Lambda entry does not import this file at all: it routes by manifests.ts.
 */
import type { DomainHandler } from '../functions/shared/handler.js';
import { routedDomains, type RoutedDomain } from './manifests.js';

export interface DomainRegistration extends RoutedDomain {
  load: () => Promise<DomainHandler>;
}

const loaders: Record<string, () => Promise<DomainHandler>> = {
  inventory: async () => (await import('../functions/inventory/handler.js')).handler,
  sites: async () => (await import('../functions/sites/handler.js')).handler,
  images: async () => (await import('../functions/images/handler.js')).handler,
  boot: async () => (await import('../functions/boot/handler.js')).handler,
  orchestration: async () => (await import('../functions/orchestration/handler.js')).handler,
};

export const domains: DomainRegistration[] = routedDomains.map(({ manifest }) => {
  const load = loaders[manifest.domain];
  if (!load) throw new Error(`no in-process handler for domain ${manifest.domain}`);
  return { manifest, load };
});
