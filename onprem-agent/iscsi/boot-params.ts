/**
 * What a node's boot script needs to mount its root from the site's agents: dracut's iSCSI
 * (`netroot=iscsi:`) and live-image (`root=live:`) arguments, and the DNS SRV records through
 * which a site's DNS advertises the same portals. Pure, so the cloud's boot-script renderer can
 * call it as the agent does.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { IMAGE_LUN, assertAgentName, exportTargetIqn, lunIdentity, parsePortal, reverseDomain, targetIqnFor } from './naming.js';

export interface IscsiPath {
  /** `ADDR:PORT` an agent advertises. */
  portal: string;
  /** That agent's target for the image (exportTargetIqn). */
  targetIqn: string;
}

export interface KernelChap {
  user: string;
  secret: string;
  mutualUser?: string;
  mutualSecret?: string;
}

export interface IscsiKernelInput {
  initiatorIqn: string;
  paths: IscsiPath[];
  rootfsSha256: string;
  lun?: number;
  /** Put in netroot only when the caller accepts it showing in /proc/cmdline (see docs/iscsi.md). */
  chap?: KernelChap;
  /** `ip=` value; dhcp unless the boot script sets static addressing itself. */
  ip?: string;
}

/** One path per agent portal: what a boot-script renderer passes to iscsiKernelParameters. */
export function iscsiPathsFor(siteDomain: string, agents: Array<{ agentName: string; portals: string[] }>, rootfsSha256: string): IscsiPath[] {
  return agents.flatMap((a) => {
    const target = exportTargetIqn(targetIqnFor(assertAgentName(a.agentName), siteDomain), rootfsSha256);
    return a.portals.map((portal) => ({ portal, targetIqn: target }));
  });
}

/** The root device dracut waits for: the multipath map when there are several paths, else the LUN's WWN link. */
export function rootDevicePath(rootfsSha256: string, multipath: boolean): string {
  const { wwid } = lunIdentity(rootfsSha256);
  return multipath ? `/dev/disk/by-id/dm-uuid-mpath-${wwid}` : `/dev/disk/by-id/wwn-0x${wwid.slice(1)}`;
}

const CHAP_TOKEN = /^[A-Za-z0-9._-]+$/;

function chapPrefix(chap: KernelChap | undefined): string {
  if (!chap) return '';
  // netroot is colon-separated with no quoting; a colon or @ in a credential would shift every field.
  for (const [field, v] of Object.entries(chap)) {
    if (typeof v === 'string' && !CHAP_TOKEN.test(v)) throw new BadUserInputError(`chap.${field}`, 'must be letters, digits, ".", "_" or "-"');
  }
  const mutual = chap.mutualUser && chap.mutualSecret ? `:${chap.mutualUser}:${chap.mutualSecret}` : '';
  return `${chap.user}:${chap.secret}${mutual}@`;
}

/**
 * dracut arguments, in order. netroot grammar (dracut.cmdline(7)):
 * `iscsi:[user:pass[:reverse-user:reverse-pass]@][server]:[protocol]:[port][:[iface]:[netdev]]:[LUN]:target`.
 */
export function iscsiKernelParameters(input: IscsiKernelInput): string[] {
  if (input.paths.length === 0) throw new BadUserInputError('paths', 'at least one agent portal is required');
  const lun = input.lun ?? IMAGE_LUN;
  const creds = chapPrefix(input.chap);
  const multipath = input.paths.length > 1;
  const params = ['rd.neednet=1', `ip=${input.ip ?? 'dhcp'}`, `rd.iscsi.initiator=${input.initiatorIqn}`];
  for (const p of input.paths) {
    const { address, port } = parsePortal(p.portal, 'paths.portal');
    params.push(`netroot=iscsi:${creds}${address}::${port}:${lun}:${p.targetIqn}`);
  }
  if (multipath) {
    // With a short replacement timeout a dead agent fails its path over in seconds instead of two minutes.
    params.push('rd.multipath=default', 'rd.iscsi.param=node.session.timeo.replacement_timeout=5');
  }
  params.push(`root=live:${rootDevicePath(input.rootfsSha256, multipath)}`, 'rd.live.image', 'rd.live.overlay.overlayfs=1', 'ro');
  return params;
}

export interface SrvPortal {
  agentName: string;
  portal: string;
}

/**
 * A zone-file snippet for the site's DNS: one SRV per portal under `_skyboot-iscsi._tcp.<domain>`,
 * equal priority and weight (paths are active/active), and the A record each SRV target needs.
 */
export function srvZoneSnippet(siteDomain: string, portals: SrvPortal[], ttl = 300): string {
  const domain = reverseDomain(siteDomain, 'siteDomain').split('.').reverse().join('.');
  const perAgent = new Map<string, number>();
  for (const p of portals) perAgent.set(p.agentName, (perAgent.get(p.agentName) ?? 0) + 1);
  const seen = new Map<string, number>();
  const srv: string[] = [];
  const a: string[] = [];
  for (const p of portals) {
    const agent = assertAgentName(p.agentName, 'portals.agentName');
    const { address, port } = parsePortal(p.portal, 'portals.portal');
    const n = (seen.get(agent) ?? 0) + 1;
    seen.set(agent, n);
    const host = `iscsi-${agent}${(perAgent.get(p.agentName) ?? 1) > 1 ? `-${n}` : ''}.${domain}.`;
    srv.push(`_skyboot-iscsi._tcp.${domain}. ${ttl} IN SRV 10 10 ${port} ${host}`);
    a.push(`${host} ${ttl} IN A ${address}`);
  }
  return `; Skyboot iSCSI portals for ${domain}\n${[...srv, ...a].join('\n')}\n`;
}
