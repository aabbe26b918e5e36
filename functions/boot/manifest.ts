/** The boot domain's public interface: operations, access and the GraphQL field each resolves. */
import type { DomainManifest } from '../shared/handler.js';

export const bootManifest = {
  domain: 'boot',
  scope: 'site',
  operations: {
    bootConfiguration: { access: 'read', field: 'Query.bootConfiguration' },
    bootConfigurations: { access: 'read', field: 'Query.bootConfigurations' },
    bootConfigurationFor: { access: 'read', field: 'Query.bootConfigurationFor' },
    bootScript: { access: 'read', field: 'Query.bootScript' },
    cloudInitFor: { access: 'read', field: 'Query.cloudInitFor' },
    setBootConfiguration: { access: 'write', field: 'Mutation.setBootConfiguration' },
    writeBootConfiguration: { access: 'write', field: 'Mutation.writeBootConfiguration' },
    deleteBootConfiguration: { access: 'write', field: 'Mutation.deleteBootConfiguration' },
    setCloudInit: { access: 'write', field: 'Mutation.setCloudInit' },
    deleteCloudInit: { access: 'write', field: 'Mutation.deleteCloudInit' },
  },
} as const satisfies DomainManifest;
