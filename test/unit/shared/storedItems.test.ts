import { readFileSync } from 'node:fs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { decodeBinding } from '../../../functions/boot/resolve.js';
import { toView } from '../../../functions/boot/configurations.js';
import { decodeCloudInit } from '../../../functions/boot/cloudInitItem.js';
import { decodeArtifact, decodeImage } from '../../../functions/images/model.js';
import { decodeHardware } from '../../../functions/inventory/hardware.js';
import { componentFromItem } from '../../../functions/inventory/model.js';
import { componentItem } from '../../../functions/inventory/componentStore.js';
import { endpointJson } from '../../../functions/inventory/redfishEndpoints.js';
import { recordJson } from '../../../functions/inventory/auditLog.js';
import { collectionJson } from '../../../functions/inventory/collections.js';
import { GROUP } from '../../../functions/inventory/groups.js';
import { PARTITION } from '../../../functions/inventory/partitions.js';
import { bootSessionKey, commandKey, templateKey } from '../../../functions/orchestration/keys.js';
import { decodeIscsiSession } from '../../../functions/orchestration/iscsiSessions.js';
import { toRequest } from '../../../functions/orchestration/powerRequests.js';
import { sessionNodeItem, toSessionNode } from '../../../functions/orchestration/sessionNodes.js';
import { toSession } from '../../../functions/orchestration/sessions.js';
import { toTemplate } from '../../../functions/orchestration/templates.js';
import { toSite } from '../../../functions/sites/sites.js';
import { decodeSiteSnapshot } from '../../../functions/sites/snapshotRevision.js';
import { agentPortalsKey, decodeAgentPortals } from '../../../functions/sites/agentPortals.js';
import { decodeTimelineEvent } from '../../../functions/orchestration/bootTimeline.js';
import { describeDecoders, storedItemError } from '../../support/storedItemCases.js';

type Item = Record<string, unknown>;

// Items written by an earlier main (the key-migration fixture): old items must keep decoding.
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/inventory-keys-v1.json', import.meta.url), 'utf8')) as { items: Record<string, AttributeValue>[] };
const stored = fixture.items.map((i) => unmarshall(i));
const ofKind = (entity: string): Item[] => stored.filter((i) => i.entity === entity);
const first = (item: Item, field: string): Item => (item[field] as Item[])[0]!;

// What the current inventory writes, string set included.
const currentComponent = componentItem({
  xname: 'x1000c0s0b0n0', type: 'Node', state: 'ON', flag: 'OK', enabled: true, role: 'COMPUTE', nid: 7, arch: 'X86', site: 'lab-a', version: 3,
  interfaces: [{ mac: '02:00:00:00:00:07', ipAddresses: ['10.0.0.7'], network: 'default', description: 'boot' }],
  groups: ['gpu', 'compute'], createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-02T00:00:00.000Z',
});

// Orchestration items as their writers put them: the key, the entity and the typed record spread.
const at = '2026-01-01T00:00:00.000Z';
const payload = { imageId: 'img-1', kernel: 'a'.repeat(64), initrd: null, rootfs: 'b'.repeat(64), kernelParameters: 'quiet', rootfsProvider: 'HTTP' as const };
const counts = { total: 2, pending: 1, waiting: 0, inProgress: 1, succeeded: 0, failed: 0, rolledBack: 0, staged: 0, superseded: 0 };
const session = { id: 's-1', site: 'lab-a', template: 't', templateVersion: 1, operation: 'REBOOT', limit: null, stage: false, maxConcurrent: 2, canary: 0, maxFailures: null, bootTimeoutSeconds: 600, rollback: true, respectWorkload: false, status: 'RUNNING', statusReason: null, counts, canaryStarted: 0, canaryValidated: 0, createdBy: 'op', createdAt: at, updatedAt: at, endedAt: null };
const sessionNode = sessionNodeItem({
  sessionId: 's-1', site: 'lab-a', xname: 'x1000c0s0b0n0', phase: 'INPROGRESS', attempts: 1, error: null, startedAt: at, endedAt: null, previousImageId: null, targetImageId: 'img-1', bootSet: 'compute',
  canary: false, claimedBy: 'agent-1', claimToken: 'inst-1', leaseExpiresAt: at, supersededBy: null, target: payload, bootToken: 'tok', previous: null, previousBootToken: null,
});
const powerRequest = { ...commandKey('p-1'), entity: 'PowerRequest', id: 'p-1', site: 'lab-a', action: 'CYCLE', xnames: ['x1000c0s0b0n0'], status: 'DONE', requestedBy: 'op', createdAt: at, claimedAt: at, completedAt: at, results: [{ xname: 'x1000c0s0b0n0', ok: true, powerState: 'On', bootOverride: null, error: null }] };
const template = { ...templateKey('lab-a', 't'), entity: 'BootTemplate', name: 't', site: 'lab-a', description: null, version: 1, createdAt: at, updatedAt: at, bootSets: [{ name: 'compute', imageId: 'img-1', kernelParameters: '', rootfsProvider: null, arch: 'X86', xnames: [], groups: ['compute'], roles: [] }] };

describeDecoders([
  {
    kind: 'Component',
    decode: componentFromItem,
    good: [currentComponent, ...ofKind('Component')],
    bad: [
      { name: 'missing xname', edit: (i) => delete i.xname, path: 'xname', reason: 'is not a string' },
      { name: 'a version that is a string', edit: (i) => (i.version = '3'), path: 'version', reason: 'is not an integer' },
      { name: 'a state outside the enum', edit: (i) => (i.state = 'BOOTING'), path: 'state', reason: 'is not one of UNKNOWN' },
      { name: 'an interface without a MAC', edit: (i) => delete first(i, 'interfaces').mac, path: 'interfaces[0].mac', reason: 'is not a string' },
      { name: 'groups that are not a set', edit: (i) => (i.groups = 'gpu'), path: 'groups', reason: 'is not a string set' },
    ],
  },
  {
    kind: 'Hardware',
    decode: decodeHardware,
    good: ofKind('Hardware'),
    bad: [
      { name: 'missing updatedAt', edit: (i) => delete i.updatedAt, path: 'updatedAt', reason: 'is not a string' },
      { name: 'memory that is a map', edit: (i) => (i.memory = { slot: 'A1' }), path: 'memory', reason: 'is not a list' },
      { name: 'a memory part that is a number', edit: (i) => ((i.memory as unknown[])[0] = 4096), path: 'memory[0]', reason: 'is not a map' },
      { name: 'a firmware entry without a version', edit: (i) => (i.firmware = [{ name: 'BIOS' }]), path: 'firmware[0].version', reason: 'is not a string' },
    ],
  },
  {
    kind: 'CloudInit',
    decode: decodeCloudInit,
    good: [...ofKind('CloudInit'), { ...ofKind('CloudInit')[0]!, metaData: { 'instance-id': 'x1' }, vendorData: { a: [1, 2] } }],
    bad: [
      { name: 'metaData that is a list', edit: (i) => (i.metaData = ['x']), path: 'metaData', reason: 'is not a map' },
      { name: 'userData that is a number', edit: (i) => (i.userData = 1), path: 'userData', reason: 'is not a string' },
    ],
  },
  {
    kind: 'RedfishEndpoint',
    decode: endpointJson,
    good: ofKind('RedfishEndpoint'),
    bad: [
      { name: 'a discovery status outside the enum', edit: (i) => (i.discoveryStatus = 'DONE'), path: 'discoveryStatus', reason: 'is not one of PENDING, IN_PROGRESS, OK, FAILED' },
      { name: 'missing address', edit: (i) => delete i.address, path: 'address', reason: 'is not a string' },
    ],
  },
  {
    kind: 'Group',
    decode: (i) => collectionJson(GROUP, i),
    good: ofKind('Group'),
    bad: [
      { name: 'missing label', edit: (i) => delete i.label, path: 'label', reason: 'is not a string' },
      { name: 'an exclusiveGroup that is a list', edit: (i) => (i.exclusiveGroup = ['racks']), path: 'exclusiveGroup', reason: 'is not a string' },
      { name: 'tags that are a string', edit: (i) => (i.tags = 't'), path: 'tags', reason: 'is not a list' },
    ],
  },
  {
    kind: 'Partition',
    decode: (i) => collectionJson(PARTITION, i),
    good: ofKind('Partition'),
    bad: [{ name: 'a version that is a string', edit: (i) => (i.version = '1'), path: 'version', reason: 'is not an integer' }],
  },
  {
    kind: 'Audit',
    decode: recordJson,
    good: ofKind('Audit'),
    bad: [
      { name: 'roles that are a string', edit: (i) => (i.roles = 'admin'), path: 'roles', reason: 'is not a list' },
      { name: 'after that is a map', edit: (i) => (i.after = { name: 'lab-a' }), path: 'after', reason: 'is not a string' },
    ],
  },
  {
    kind: 'Image',
    decode: decodeImage,
    good: ofKind('Image'),
    bad: [
      { name: 'missing imageVersion', edit: (i) => delete i.imageVersion, path: 'imageVersion', reason: 'is not a string' },
      { name: 'a status outside the enum', edit: (i) => (i.status = 'DONE'), path: 'status', reason: 'is not one of UPLOADING, VERIFYING, READY, FAILED' },
      { name: 'an artifact of an unknown type', edit: (i) => (first(i, 'artifacts').type = 'FIRMWARE'), path: 'artifacts[0].type', reason: 'is not one of KERNEL' },
      { name: 'an artifact size that is a string', edit: (i) => (first(i, 'artifacts').size = '100'), path: 'artifacts[0].size', reason: 'is not an integer' },
    ],
  },
  {
    kind: 'Artifact',
    decode: decodeArtifact,
    good: ofKind('Artifact'),
    bad: [
      { name: 'missing s3Key', edit: (i) => delete i.s3Key, path: 's3Key', reason: 'is not a string' },
      { name: 'an etag that is a number', edit: (i) => (i.etag = 5), path: 'etag', reason: 'is not a string' },
      { name: 'a status outside the enum', edit: (i) => (i.status = 'LOST'), path: 'status', reason: 'is not one of' },
    ],
  },
  {
    kind: 'BootConfiguration',
    decode: toView,
    good: ofKind('BootConfiguration'),
    bad: [
      { name: 'missing kernel', edit: (i) => delete i.kernel, path: 'kernel', reason: 'is not a string' },
      { name: 'a rootfsProvider outside the enum', edit: (i) => (i.rootfsProvider = 'NFS'), path: 'rootfsProvider', reason: 'is not one of HTTP, ISCSI' },
      { name: 'a selector NID that is a string', edit: (i) => ((i.selector as Item).nids = ['1']), path: 'selector.nids[0]', reason: 'is not an integer' },
      { name: 'a selector that is a string', edit: (i) => (i.selector = 'default'), path: 'selector', reason: 'is not a map' },
    ],
  },
  {
    kind: 'BootBinding',
    decode: decodeBinding,
    good: ofKind('BootBinding'),
    bad: [
      { name: 'missing configId', edit: (i) => delete i.configId, path: 'configId', reason: 'is not a string' },
      { name: 'a priority that is a fraction', edit: (i) => (i.priority = 1.5), path: 'priority', reason: 'is not an integer' },
      { name: 'kernel parameters that are a list', edit: (i) => (i.kernelParameters = ['quiet']), path: 'kernelParameters', reason: 'is not a string' },
    ],
  },
  {
    kind: 'BootSession',
    decode: toSession,
    // A session whose counters were never ADDed has no counts map.
    good: [{ ...bootSessionKey('s-1'), entity: 'BootSession', ...session }, { ...bootSessionKey('s-2'), entity: 'BootSession', ...session, id: 's-2', counts: undefined }],
    bad: [
      { name: 'an operation outside the enum', edit: (i) => (i.operation = 'HALT'), path: 'operation', reason: 'is not one of BOOT, REBOOT, SHUTDOWN' },
      { name: 'a counter that is a string', edit: (i) => ((i.counts as Item).failed = '1'), path: 'counts.failed', reason: 'is not an integer' },
      { name: 'missing maxConcurrent', edit: (i) => delete i.maxConcurrent, path: 'maxConcurrent', reason: 'is not an integer' },
    ],
  },
  {
    kind: 'BootSessionNode',
    decode: toSessionNode,
    good: [sessionNode],
    bad: [
      { name: 'a phase outside the enum', edit: (i) => (i.phase = 'DONE'), path: 'phase', reason: 'is not one of PENDING' },
      { name: 'a target without a kernel', edit: (i) => delete (i.target as Item).kernel, path: 'target.kernel', reason: 'is not a string' },
      { name: 'an error that is a string', edit: (i) => (i.error = 'boom'), path: 'error', reason: 'is not a map' },
    ],
  },
  {
    kind: 'PowerRequest',
    decode: toRequest,
    good: [powerRequest],
    bad: [
      { name: 'an action outside the enum', edit: (i) => (i.action = 'NMI'), path: 'action', reason: 'is not one of ON' },
      { name: 'a result without ok', edit: (i) => delete first(i, 'results').ok, path: 'results[0].ok', reason: 'is not a boolean' },
      { name: 'xnames that are a string', edit: (i) => (i.xnames = 'x1000c0s0b0n0'), path: 'xnames', reason: 'is not a list' },
    ],
  },
  {
    kind: 'BootTemplate',
    decode: toTemplate,
    good: [template],
    bad: [
      { name: 'missing bootSets', edit: (i) => delete i.bootSets, path: 'bootSets', reason: 'is not a list' },
      { name: 'a boot set arch outside the enum', edit: (i) => (first(i, 'bootSets').arch = 'RISCV'), path: 'bootSets[0].arch', reason: 'is not one of X86, ARM, OTHER' },
    ],
  },
  {
    kind: 'IscsiSession',
    decode: decodeIscsiSession,
    good: ofKind('IscsiSession'),
    bad: [{ name: 'a LUN that is a string', edit: (i) => (i.lun = '1'), path: 'lun', reason: 'is not an integer' }],
  },
  {
    kind: 'BootTimelineEvent',
    decode: decodeTimelineEvent,
    good: [
      { PK: 'BOOTTL#lab-a#x1000c0s0b0n0', SK: `${at}#0123456789ab`, entity: 'BootTimelineEvent', site: 'lab-a', agent: 'agent-1', xname: 'x1000c0s0b0n0', stage: 'dhcp.offer', at, detail: 'offer 10.0.0.7', ttl: 1 },
      { PK: 'BOOTTL#lab-a#x1000c0s0b0n0', SK: `${at}#ba9876543210`, entity: 'BootTimelineEvent', site: 'lab-a', agent: 'agent-1', xname: 'x1000c0s0b0n0', stage: 'heartbeat', at },
    ],
    bad: [{ name: 'a stage outside the enum', edit: (i) => (i.stage = 'dhcp.nak'), path: 'stage', reason: 'is not one of dhcp.offer' }],
  },
  {
    kind: 'AgentPortals',
    decode: decodeAgentPortals,
    good: [{ ...agentPortalsKey('lab-a', 'agent-1'), entity: 'AgentPortals', site: 'lab-a', agent: 'agent-1', portals: ['10.0.0.2:3260'], observedAt: at, updatedAt: at }],
    bad: [{ name: 'a portal that is a number', edit: (i) => (i.portals = [3260]), path: 'portals[0]', reason: 'is not a string' }],
  },
  {
    kind: 'Site',
    decode: toSite,
    good: ofKind('Site'),
    bad: [{ name: 'missing name', edit: (i) => delete i.name, path: 'name', reason: 'is not a string' }],
  },
]);

// The Site item as the snapshot code reads it: before the first build (fixture) and after two.
const built = {
  ...ofKind('Site')[0]!, snapshotRevision: 2, snapshotHash: 'c'.repeat(64), snapshotBuiltFrom: at, snapshotChangedAt: at,
  snapshotArtifacts: [{ sha256: 'a'.repeat(64), size: 10, type: 'KERNEL', status: 'READY', url: null, urlExpiresAt: null }],
  snapshotHistory: [{ revision: 1, hash: 'd'.repeat(64), bytes: 100, deltaFrom: null, deltaBytes: null }, { revision: 2, hash: 'c'.repeat(64), bytes: 120, deltaFrom: 'd'.repeat(64), deltaBytes: 30 }],
};

describeDecoders([
  {
    kind: 'Site',
    label: 'Site snapshot state',
    decode: decodeSiteSnapshot,
    good: [built, ...ofKind('Site')],
    bad: [
      { name: 'a revision that is a string', edit: (i) => (i.snapshotRevision = '2'), path: 'snapshotRevision', reason: 'is not an integer' },
      { name: 'a history entry without a hash', edit: (i) => delete first(i, 'snapshotHistory').hash, path: 'snapshotHistory[0].hash', reason: 'is not a string' },
      { name: 'an artifact size that is a string', edit: (i) => (first(i, 'snapshotArtifacts').size = '10'), path: 'snapshotArtifacts[0].size', reason: 'is not an integer' },
    ],
  },
]);

describe('stored-item decoding', () => {
  it('keeps optional fields of older items absent and fills defaults (priority, groups, interfaces)', () => {
    const [binding] = ofKind('BootBinding');
    const { priority: _p, rootfsProvider: _r, ...older } = binding!;
    expect(decodeBinding(older)).toMatchObject({ priority: 0, rootfsProvider: null });
    const { groups: _g, interfaces: _i, role: _ro, ...bare } = currentComponent;
    const c = componentFromItem(bare);
    expect(c).toMatchObject({ groups: [], interfaces: [] });
    expect('role' in c).toBe(false);
  });

  it('reads a Site item before its first snapshot build as revision 0 with empty history', () => {
    expect(decodeSiteSnapshot(ofKind('Site')[0]!)).toEqual({ domain: 'test.skyboot', snapshotRevision: 0, snapshotHash: null, snapshotBuiltFrom: null, snapshotBuiltSeen: null, snapshotBuildError: null, snapshotArtifacts: [], snapshotHistory: [] });
  });

  it('returns a string set as a sorted array and drops index keys', () => {
    const c = componentFromItem(currentComponent);
    expect(c.groups).toEqual(['compute', 'gpu']);
    expect(Object.keys(c).some((k) => k === 'PK' || k.startsWith('GSI') || k === 'entity')).toBe(false);
  });

  it('cuts a long value in the message and the log fields', () => {
    const err = storedItemError(componentFromItem, { ...currentComponent, xname: ['z'.repeat(500)] });
    expect(err.value.length).toBeLessThanOrEqual(81);
    expect(err.value.endsWith('…')).toBe(true);
    expect(err.toLog()).toEqual({ kind: 'Component', PK: currentComponent.PK, SK: currentComponent.SK, path: 'xname', value: err.value, reason: 'is not a string' });
  });
});
