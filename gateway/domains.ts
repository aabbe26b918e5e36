/**
 * The domains the gateway routes to. Each entry pairs a domain's manifest (pure data: its
 * operations, access and GraphQL fields) with a loader for its in-process handler. In AWS the
 * Lambda invoker never calls the loaders: the gateway routes by manifest and each domain runs
 * in its own function with its own IAM role.
 */
import type { DomainHandler, DomainManifest } from '../functions/shared/handler.js';
import { inventoryManifest } from '../functions/inventory/manifest.js';
import { sitesManifest } from '../functions/sites/manifest.js';
import { orchestrationManifest } from '../functions/orchestration/manifest.js';
import { imagesManifest } from '../functions/images/manifest.js';
import { bootManifest } from '../functions/boot/manifest.js';

export interface DomainRegistration {
  manifest: DomainManifest;
  load: () => Promise<DomainHandler>;
}

export const domains: DomainRegistration[] = [
  { manifest: inventoryManifest, load: async () => (await import('../functions/inventory/handler.js')).handler },
  { manifest: sitesManifest, load: async () => (await import('../functions/sites/handler.js')).handler },
  { manifest: imagesManifest, load: async () => (await import('../functions/images/handler.js')).handler },
  { manifest: bootManifest, load: async () => (await import('../functions/boot/handler.js')).handler },
  { manifest: orchestrationManifest, load: async () => (await import('../functions/orchestration/handler.js')).handler },
];
