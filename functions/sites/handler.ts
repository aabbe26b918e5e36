import { domainHandler } from '../shared/handler.js';
import { sitesManifest } from './manifest.js';
import { siteSnapshot } from './snapshot.js';
import { reportObservations, type ObservationInput } from './snapshotObservations.js';
import { agentsOfSite, createSite, getSite, listSites, rotateAgentCredentials } from './sites.js';

export const handler = domainHandler(sitesManifest, {
  sites: (_a, ctx) => listSites(ctx),
  site: (a: { name: string }, ctx) => getSite(ctx, a.name),
  createSite: (a: { input: { name: string; description?: string; domain?: string } }, ctx) => createSite(ctx, a.input),
  rotateAgentCredentials: (a: { site: string }, ctx) => rotateAgentCredentials(ctx, a.site),
  siteAgents: (_a, ctx, source) => agentsOfSite(ctx, source),
  siteSnapshot: (a: { sinceRevision?: number | null }, ctx) => siteSnapshot(a, ctx),
  reportObservations: (a: { batch: ObservationInput[] }, ctx) => reportObservations(a, ctx),
});
