import type { DomainManifest } from '../shared/handler.js';

export const orchestrationManifest = {
  domain: 'orchestration',
  operations: {
    powerRequest: { access: 'read', field: 'Query.powerRequest' },
    requestPower: { access: 'write', field: 'Mutation.requestPower' },
    claimPowerRequests: { access: 'agent', field: 'Mutation.claimPowerRequests' },
    completePowerRequest: { access: 'agent', field: 'Mutation.completePowerRequest' },
    reportIscsiSessions: { access: 'agent', field: 'Mutation.reportIscsiSessions' },
    componentIscsiSessions: { access: 'read', field: 'Component.iscsiSessions' },
    imageIscsiSessions: { access: 'read', field: 'Image.iscsiSessions' },
    componentBootTimeline: { access: 'read', field: 'Component.bootTimeline' },
  },
} as const satisfies DomainManifest;
