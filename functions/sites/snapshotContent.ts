/**
 * The site snapshot's content: the calling agent's site, read through the owning domains' exported pieces —
 * the inventory's site lookups (functions/inventory/lookup.ts: the site's components and BMCs), the boot domain's resolution
 * (candidateValues → getBindings → pickBinding, one BatchGet for the whole site), image and
 * artifact items, and cloud-init items merged with the shared bootscript/cloudInit.ts. The
 * artifacts carry no URLs here: those are presigned per pull (snapshot.ts).
 */
import { batchGet } from '../shared/batchGet.js';
import { mergeCloudInit, type CloudInitSource } from '../../bootscript/cloudInit.js';
import type { Clients } from '../shared/clients.js';
import { siteComponentRecords, siteRedfishEndpointAddresses, type ComponentRecord } from '../inventory/lookup.js';
import { cloudInitKey } from '../boot/keys.js';
import { decodeCloudInit } from '../boot/cloudInitItem.js';
import { getBindings, pickBinding, type Binding, type Resolution } from '../boot/resolve.js';
import { candidateValues } from '../boot/selector.js';
import { factsFromComponent } from '../boot/nodeFacts.js';
import { getArtifactItems, getImageItems } from '../images/store.js';
import {
  type SnapshotArch,
  type SnapshotArtifact,
  type SnapshotBoot,
  type SnapshotCloudInit,
  type SnapshotContent,
  type SnapshotNode,
} from '../../schema/siteSnapshot.js';
import { siteAgentPortals } from './agentPortals.js';
import { siteWorkloadHolds } from '../orchestration/bootState.js';

const ARCHES: SnapshotArch[] = ['X86', 'ARM', 'OTHER'];

function bootOf(b: Binding, matchedSelector: string): SnapshotBoot {
  return {
    configId: b.configId,
    matchedSelector,
    imageId: b.imageId ?? null,
    kernel: b.kernel,
    initrd: b.initrd ?? null,
    rootfs: b.rootfs ?? null,
    kernelParameters: b.kernelParameters ?? '',
    rootfsProvider: b.rootfsProvider ?? null,
  };
}


/**
 * Cloud-init items (boot domain, CLOUDINIT#<site>#NODE|GROUP#<name>) carry metaData, userData and
 * vendorData; merged node over groups by the shared merge.
 */
async function cloudInitFor(c: Clients, site: string, nodes: ComponentRecord[]): Promise<Map<string, SnapshotCloudInit>> {
  const groups = [...new Set(nodes.flatMap((n) => n.groups ?? []))];
  const keys = [...nodes.map((n) => cloudInitKey(site, 'NODE', n.xname)), ...groups.map((g) => cloudInitKey(site, 'GROUP', g))];
  const items = new Map((await batchGet(c, keys as { PK: string; SK: string }[])).filter((i) => i !== undefined).map((i) => [String(i.PK), i]));
  const source = (pk: string, scope: string): CloudInitSource | null => {
    const i = items.get(pk);
    if (!i) return null;
    const d = decodeCloudInit(i);
    return { scope, metaData: d.metaData, userData: d.userData, vendorData: d.vendorData };
  };
  const out = new Map<string, SnapshotCloudInit>();
  for (const n of nodes) {
    const gs = (n.groups ?? []).flatMap((g) => {
      const s = source(cloudInitKey(site, 'GROUP', g).PK, `group:${g}`);
      return s ? [{ ...s, group: g }] : [];
    });
    const own = source(cloudInitKey(site, 'NODE', n.xname).PK, `node:${n.xname}`);
    if (!gs.length && !own) continue;
    const m = mergeCloudInit(gs, own);
    out.set(n.xname, { metaData: m.metaData, userData: m.userData, vendorData: m.vendorData });
  }
  return out;
}

const TYPE_OF: Record<'kernel' | 'initrd' | 'rootfs', string> = { kernel: 'KERNEL', initrd: 'INITRD', rootfs: 'ROOTFS_SQUASHFS' };

export async function buildSnapshotContent(c: Clients, site: string, siteDomain: string | null): Promise<SnapshotContent> {
  const components = (await siteComponentRecords(c, site)).filter((r) => r.type === 'Node');
  const facts = components.map(factsFromComponent);
  const candidates = facts.map((f) => candidateValues(f));
  const unknownValues = ARCHES.map((a) => `UNKNOWN#${a}`);
  // Independent reads, at once: on a 20,000-node site bindings and cloud-init each took as long
  // as the component query, one after the other.
  const [bindings, cloudInit, holds, redfishEndpoints, iscsiPortals] = await Promise.all([
    getBindings(c, site, [...candidates.flat(), ...unknownValues]),
    cloudInitFor(c, site, components),
    siteWorkloadHolds(c, site),
    siteRedfishEndpointAddresses(c, site),
    siteAgentPortals(c, site),
  ]);

  const nodes: SnapshotNode[] = components.map((r, i) => {
    const res: Resolution | null = pickBinding(candidates[i]!, bindings);
    return {
      xname: r.xname,
      nid: r.nid ?? null,
      role: r.role ?? null,
      subRole: r.subRole ?? null,
      arch: r.arch ?? null,
      groups: [...(r.groups ?? [])].sort(),
      interfaces: (r.interfaces ?? []).map((x) => ({ mac: x.mac, ipAddresses: [...(x.ipAddresses ?? [])], network: x.network })).sort((a, b) => (a.mac < b.mac ? -1 : 1)),
      boot: res ? bootOf(res.binding, res.matchedSelector) : null,
      cloudInit: cloudInit.get(r.xname) ?? null,
      ...(holds.has(r.xname) ? { workloadHold: true } : {}),
    };
  });
  const discovery = ARCHES.flatMap((arch) => {
    const b = bindings.get(`UNKNOWN#${arch}`);
    return b ? [{ arch, boot: bootOf(b, `unknown:${arch}`) }] : [];
  });

  // Every artifact a boot uses, typed by the slot it fills; an image's own declaration wins.
  const used = new Map<string, string>();
  const boots = [...nodes.map((n) => n.boot), ...discovery.map((d) => d.boot)].filter((b): b is SnapshotBoot => b !== null);
  for (const b of boots) for (const slot of ['kernel', 'initrd', 'rootfs'] as const) if (b[slot] && !used.has(b[slot]!)) used.set(b[slot]!, TYPE_OF[slot]);
  const imageIds = [...new Set(boots.map((b) => b.imageId).filter((x): x is string => !!x))].sort();
  const images = await getImageItems(c, imageIds);
  for (const img of images.values()) for (const a of img.artifacts ?? []) if (used.has(a.sha256)) used.set(a.sha256, a.type);
  const arts = await getArtifactItems(c, [...used.keys()]);
  const artifacts: SnapshotArtifact[] = [...used.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([sha256, type]) => {
      const a = arts.get(sha256);
      return { sha256, size: a?.size ?? 0, type, status: a?.status ?? 'MISSING', url: null, urlExpiresAt: null };
    });
  return {
    site,
    siteDomain,
    nodes,
    discovery,
    artifacts,
    redfishEndpoints,
    // Always present, empty included: agents and `siteSnapshot` readers see [] for "no portals", as before snapshots moved to S3.
    iscsiPortals,
    images: imageIds.flatMap((id) => {
      const img = images.get(id);
      return img ? [{ id, name: img.name, version: img.imageVersion, arch: img.arch, status: img.status }] : [];
    }),
  };
}

