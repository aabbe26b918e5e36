/**
 * What the gateway routes by: each domain's manifest (pure data: operations, access, GraphQL
 * fields). Kept apart from the in-process loaders (domains.ts) because a bundler follows the
 * loaders' dynamic imports: the Lambda entry imports only this file, so the gateway bundle
 * carries no domain code and none of the domains' AWS SDK clients.
 */
import type { DomainManifest } from '../functions/shared/handler.js';
import { inventoryManifest } from '../functions/inventory/manifest.js';
import { sitesManifest } from '../functions/sites/manifest.js';
import { orchestrationManifest } from '../functions/orchestration/manifest.js';
import { imagesManifest } from '../functions/images/manifest.js';
import { bootManifest } from '../functions/boot/manifest.js';

/** A domain as the schema and the resolver map see it: its manifest only. */
export interface RoutedDomain {
  manifest: DomainManifest;
}

export const routedDomains: readonly RoutedDomain[] = [inventoryManifest, sitesManifest, imagesManifest, bootManifest, orchestrationManifest].map((manifest) => ({ manifest }));
