import type { DomainManifest } from '../shared/handler.js';

export const sitesManifest = {
  domain: 'sites',
  scope: 'deployment',
  operations: {
    sites: { access: 'read', field: 'Query.sites' },
    site: { access: 'read', field: 'Query.site' },
    siteAgents: { access: 'read', field: 'Site.agents' },
    createSite: { access: 'admin', field: 'Mutation.createSite' },
    rotateAgentCredentials: { access: 'admin', field: 'Mutation.rotateAgentCredentials' },
    siteSnapshot: { access: 'agent', field: 'Query.siteSnapshot' },
    reportObservations: { access: 'agent', field: 'Mutation.reportObservations' },
  },
} as const satisfies DomainManifest;
