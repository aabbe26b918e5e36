/**
 * iSCSI names and SCSI identities. Every name here is a pure function of inputs the cloud also
 * knows (site domain, agent name, xname, image digest), so the boot-script renderer and every
 * agent of a site compute the same strings without talking to each other.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { normaliseXName } from '../../schema/xname.js';
import { DNS_LABEL, assertAgentName } from '../../schema/iscsiPortal.js';

export { assertAgentName, parsePortal } from '../../schema/iscsiPortal.js';

/** The naming authority date in every Skyboot IQN (RFC 3720 §3.2.6.3.1: a month the domain was held). */
export const IQN_DATE = '2026-11';
/** The authority for node initiator names: Skyboot's own, so they do not depend on a site's DNS. */
export const NODE_IQN_AUTHORITY = 'io.skyboot';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/** RFC 3720 caps an iSCSI name at 223 bytes. */
const MAX_IQN_BYTES = 223;

export function assertSha256(sha: string, field = 'rootfsSha256'): string {
  const lower = typeof sha === 'string' ? sha.toLowerCase() : '';
  if (!SHA256_HEX.test(lower)) throw new BadUserInputError(field, `"${String(sha)}" is not a sha256 hex digest (64 hex digits)`);
  return lower;
}

/** `site1.example.org` → `org.example.site1`: IQNs carry the naming authority reversed. */
export function reverseDomain(domain: string, field = 'domain'): string {
  const labels = domain.trim().toLowerCase().replace(/\.$/, '').split('.');
  if (labels.length === 0 || labels.some((l) => !DNS_LABEL.test(l))) {
    throw new BadUserInputError(field, `"${domain}" is not a DNS domain name`);
  }
  return labels.reverse().join('.');
}

function checkLength(iqn: string, field: string): string {
  if (Buffer.byteLength(iqn) > MAX_IQN_BYTES) throw new BadUserInputError(field, `"${iqn}" is longer than ${MAX_IQN_BYTES} bytes`);
  return iqn;
}

/** The node's initiator name: `iqn.2026-11.io.skyboot:node:<xname>` (xname normalised as HSM does). */
export function initiatorIqnFor(xname: string): string {
  return `iqn.${IQN_DATE}.${NODE_IQN_AUTHORITY}:node:${normaliseXName(xname, 'xname')}`;
}

/** The inverse of initiatorIqnFor, or null for an initiator Skyboot did not name. */
export function xnameOfInitiator(iqn: string): string | null {
  const prefix = `iqn.${IQN_DATE}.${NODE_IQN_AUTHORITY}:node:`;
  return iqn.startsWith(prefix) ? iqn.slice(prefix.length) : null;
}

/**
 * A node's own CHAP user: the site's CHAP user, a dot, the xname. One account per node, so a
 * target's account list is exactly the nodes its ACL admits.
 */
export function nodeChapUser(siteChapUser: string, xname: string): string {
  return `${siteChapUser}.${normaliseXName(xname, 'xname')}`;
}

/** The inverse of nodeChapUser for this site's user, or null for any other account. */
export function xnameOfChapUser(siteChapUser: string, user: string): string | null {
  const prefix = `${siteChapUser}.`;
  return user.startsWith(prefix) && user.length > prefix.length ? user.slice(prefix.length) : null;
}

/** The agent's target name: `iqn.<date>.<reversed site domain>:<agent-name>`. */
export function targetIqnFor(agentName: string, siteDomain: string): string {
  return checkLength(`iqn.${IQN_DATE}.${reverseDomain(siteDomain, 'siteDomain')}:${assertAgentName(agentName)}`, 'targetIqn');
}

/**
 * The target one image is exported under on one agent: the agent's name plus the image digest.
 * tgt has no LUN masking, so per-image ACLs need a target per image; the agent's name stays the
 * prefix so an operator still reads which agent serves a session.
 */
export function exportTargetIqn(agentTargetIqn: string, rootfsSha256: string): string {
  return checkLength(`${agentTargetIqn}:img-${assertSha256(rootfsSha256).slice(0, 16)}`, 'targetIqn');
}

/** The LUN every image is exported as, inside its own target (LUN 0 is tgt's controller). */
export const IMAGE_LUN = 1;

export interface LunIdentity {
  /** tgt `scsi_id`: VPD 0x83 T10 vendor designator, and (as hex) tgt's NAA 6 designator. */
  scsiId: string;
  /** VPD 0x80 unit serial number (tgt `scsi_sn`, LIO `wwn/vpd_unit_serial`). */
  serial: string;
  /** tgt target id; tgt builds a locally-assigned NAA from tid and LUN, so it must match too. */
  tid: number;
  /** The multipath WWID a node's udev reports for the tgt LUN (`3` + NAA 6 designator in hex). */
  wwid: string;
}

/**
 * The LUN's identity, from the digest alone, so two agents exporting one image present one
 * device to dm-multipath. scsi_id is 32 hex digits: tgt stores at most 36 characters and turns
 * the hex digits into a 128-bit NAA 6 designator whose top nibble it replaces with the NAA type
 * (6), so the first digest digit never reaches the designator. Seen from a booted node: scsi_id
 * 3600…01 showed up as /dev/disk/by-id/dm-uuid-mpath-3660…01.
 */
export function lunIdentity(rootfsSha256: string): LunIdentity {
  const sha = assertSha256(rootfsSha256);
  const scsiId = sha.slice(0, 32);
  // 28 bits keeps the tid a positive int on every platform; 0 is not a valid tid.
  const tid = parseInt(sha.slice(0, 7), 16) || 1;
  return { scsiId, serial: sha.slice(0, 24), tid, wwid: `36${sha.slice(1, 32)}` };
}

/** LIO's unit serial, formatted as the UUID targetcli itself would generate. */
export function lioUnitSerial(rootfsSha256: string): string {
  const s = assertSha256(rootfsSha256).slice(0, 32);
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`;
}
