/**
 * The inventory domain's public interface: each operation, who may call it, and the GraphQL
 * field it resolves. Pure data: the gateway imports this without the domain's code.
 */
import type { DomainManifest } from '../shared/handler.js';

// Groups and partitions are named deployment-wide and hold members of any site: creating,
// renaming or deleting one needs a deployment-wide role; adding or removing members checks the
// role at the members' site.
export const inventoryManifest = {
  domain: 'inventory',
  scope: 'site',
  operations: {
    component: { access: 'read', field: 'Query.component' },
    componentByMac: { access: 'read', field: 'Query.componentByMac' },
    components: { access: 'read', field: 'Query.components' },
    redfishEndpoint: { access: 'read', field: 'Query.redfishEndpoint' },
    redfishEndpoints: { access: 'read', field: 'Query.redfishEndpoints' },
    group: { access: 'read', field: 'Query.group' },
    groups: { access: 'read', field: 'Query.groups' },
    partition: { access: 'read', field: 'Query.partition' },
    partitions: { access: 'read', field: 'Query.partitions' },
    auditLog: { access: 'admin', field: 'Query.auditLog' },
    discoveryReceipts: { access: 'read', field: 'Query.discoveryReceipts' },
    componentHardware: { access: 'read', field: 'Component.hardware' },
    groupMembers: { access: 'read', field: 'Group.members' },
    partitionMembers: { access: 'read', field: 'Partition.members' },

    upsertComponents: { access: 'write', field: 'Mutation.upsertComponents', selection: true },
    updateComponent: { access: 'write', field: 'Mutation.updateComponent' },
    setComponentState: { access: 'write', field: 'Mutation.setComponentState' },
    deleteComponent: { access: 'write', field: 'Mutation.deleteComponent' },
    moveComponent: { access: 'write', field: 'Mutation.moveComponent' },
    addEthernetInterface: { access: 'write', field: 'Mutation.addEthernetInterface' },
    removeEthernetInterface: { access: 'write', field: 'Mutation.removeEthernetInterface' },
    upsertRedfishEndpoints: { access: 'write', field: 'Mutation.upsertRedfishEndpoints' },
    deleteRedfishEndpoint: { access: 'write', field: 'Mutation.deleteRedfishEndpoint' },
    createGroup: { access: 'write', field: 'Mutation.createGroup', scope: 'deployment' },
    updateGroup: { access: 'write', field: 'Mutation.updateGroup', scope: 'deployment' },
    deleteGroup: { access: 'write', field: 'Mutation.deleteGroup', scope: 'deployment' },
    addGroupMembers: { access: 'write', field: 'Mutation.addGroupMembers' },
    removeGroupMembers: { access: 'write', field: 'Mutation.removeGroupMembers' },
    createPartition: { access: 'write', field: 'Mutation.createPartition', scope: 'deployment' },
    updatePartition: { access: 'write', field: 'Mutation.updatePartition', scope: 'deployment' },
    deletePartition: { access: 'write', field: 'Mutation.deletePartition', scope: 'deployment' },
    addPartitionMembers: { access: 'write', field: 'Mutation.addPartitionMembers' },
    removePartitionMembers: { access: 'write', field: 'Mutation.removePartitionMembers' },
    setHardwareInventory: { access: 'write', field: 'Mutation.setHardwareInventory' },
    reportDiscovery: { access: 'agent', field: 'Mutation.reportDiscovery' },
  },
} as const satisfies DomainManifest;
