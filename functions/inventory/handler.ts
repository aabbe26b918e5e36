/** The inventory Lambda: the manifest's operations mapped to their service functions. */
import { domainHandler, type OperationContext } from '../shared/handler.js';
import { auditLog } from './auditLog.js';
import { components as componentList } from './componentList.js';
import { upsertComponents } from './componentUpsert.js';
import { component, componentByMac, deleteComponent, setComponentState, updateComponent } from './components.js';
import { moveComponent } from './componentMove.js';
import { discoveryReceipts, reportDiscovery } from './discoveryReport.js';
import {
  addGroupMembers,
  createGroup,
  deleteGroup,
  group,
  groupMembers,
  groups,
  removeGroupMembers,
  updateGroup,
} from './groups.js';
import { componentHardware, setHardwareInventory } from './hardware.js';
import { addEthernetInterface, removeEthernetInterface } from './interfaceEdits.js';
import { inventoryManifest } from './manifest.js';
import {
  addPartitionMembers,
  createPartition,
  deletePartition,
  partition,
  partitionMembers,
  partitions,
  removePartitionMembers,
  updatePartition,
} from './partitions.js';
import { deleteRedfishEndpoint, redfishEndpoint, redfishEndpoints, upsertRedfishEndpoints } from './redfishEndpoints.js';

type Args = Record<string, unknown>;
type Src = Record<string, unknown> | undefined;
// Service functions take (ctx, args); the contract passes (args, ctx, source).
const op =
  <A extends Args>(fn: (ctx: OperationContext, args: A, source?: Src) => Promise<unknown>) =>
  (args: A, ctx: OperationContext, source?: Src) =>
    fn(ctx, args ?? ({} as A), source);

export const handler = domainHandler(inventoryManifest, {
  component: op(component),
  componentByMac: op(componentByMac),
  components: op(componentList),
  redfishEndpoint: op(redfishEndpoint),
  redfishEndpoints: op(redfishEndpoints),
  group: op(group),
  groups: op(groups),
  partition: op(partition),
  partitions: op(partitions),
  auditLog: op(auditLog),
  discoveryReceipts: op(discoveryReceipts),
  componentHardware: op(componentHardware),
  groupMembers: op(groupMembers),
  partitionMembers: op(partitionMembers),
  upsertComponents: op((ctx, a: { input?: unknown }) => upsertComponents(ctx, a.input, { components: ctx.selection?.includes('components') ?? false })),
  updateComponent: op(updateComponent),
  setComponentState: op(setComponentState),
  deleteComponent: op(deleteComponent),
  moveComponent: op(moveComponent),
  addEthernetInterface: op(addEthernetInterface),
  removeEthernetInterface: op(removeEthernetInterface),
  upsertRedfishEndpoints: op(upsertRedfishEndpoints),
  deleteRedfishEndpoint: op(deleteRedfishEndpoint),
  createGroup: op(createGroup),
  updateGroup: op(updateGroup),
  deleteGroup: op(deleteGroup),
  addGroupMembers: op(addGroupMembers),
  removeGroupMembers: op(removeGroupMembers),
  createPartition: op(createPartition),
  updatePartition: op(updatePartition),
  deletePartition: op(deletePartition),
  addPartitionMembers: op(addPartitionMembers),
  removePartitionMembers: op(removePartitionMembers),
  setHardwareInventory: op(setHardwareInventory),
  reportDiscovery: op(reportDiscovery),
});
