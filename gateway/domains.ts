/**
 * The domains the gateway routes to. Each entry pairs a domain's manifest (pure data: its
 * operations, access and GraphQL fields) with a loader for its in-process handler; the Lambda
 * invoker never calls the loader, so the gateway bundle carries only manifests in AWS.
 */
import type { DomainHandler, DomainManifest } from '../functions/shared/handler.js';

export interface DomainRegistration {
  manifest: DomainManifest;
  load: () => Promise<DomainHandler>;
}

export const domains: DomainRegistration[] = [
];
