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

    bootTemplate: { access: 'read', field: 'Query.bootTemplate' },
    bootTemplates: { access: 'read', field: 'Query.bootTemplates' },
    putBootTemplate: { access: 'write', field: 'Mutation.putBootTemplate' },
    deleteBootTemplate: { access: 'write', field: 'Mutation.deleteBootTemplate' },
    bootSession: { access: 'read', field: 'Query.bootSession' },
    bootSessions: { access: 'read', field: 'Query.bootSessions' },
    bootSessionNodes: { access: 'read', field: 'BootSession.nodes' },
    bootSessionErrors: { access: 'read', field: 'BootSession.errors' },
    createBootSession: { access: 'write', field: 'Mutation.createBootSession' },
    pauseBootSession: { access: 'write', field: 'Mutation.pauseBootSession' },
    resumeBootSession: { access: 'write', field: 'Mutation.resumeBootSession' },
    cancelBootSession: { access: 'write', field: 'Mutation.cancelBootSession' },
    applyStaged: { access: 'write', field: 'Mutation.applyStaged' },
    setWorkloadHold: { access: 'write', field: 'Mutation.setWorkloadHold' },
    componentBootState: { access: 'read', field: 'Component.bootState' },
    bootSessionWork: { access: 'agent', field: 'Query.bootSessionWork' },
    claimBootSessionNodes: { access: 'agent', field: 'Mutation.claimBootSessionNodes' },
    renewBootSessionClaims: { access: 'agent', field: 'Mutation.renewBootSessionClaims' },
    reportBootSessionNode: { access: 'agent', field: 'Mutation.reportBootSessionNode' },
  },
} as const satisfies DomainManifest;
