/**
 * Node-scoped serving: a node's cloud-init, a boot script that carries its secrets, and its
 * heartbeats and phone-home are answered only when the request comes from that node, that is
 * from one of its inventory addresses (snapshot) or from an address this agent's DHCP server
 * has leased to one of its MACs.
 *
 * The requester is the TCP peer (`socket.remoteAddress`) and nothing else: the agent is not
 * deployed behind a proxy, so `X-Forwarded-For`/`Forwarded` are never read (any host could
 * write them). TCP's handshake means the peer address cannot be forged from off-path; a host
 * on the boot LAN that takes over a node's address (ARP spoofing) is outside what this guards.
 */
import type { IncomingMessage } from 'node:http';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import type { SnapshotIndex } from '../../sync/snapshotStore.js';
import { RequestRefusedError, type Claim } from './refusals.js';

/**
 * The addresses this agent's DHCP server currently has bound to a MAC (not offers, not expired).
 * Read through this interface so the lease store behind it can change (persisted leases).
 */
export interface LeaseTable {
  boundAddresses(mac: string): readonly string[];
  /** The MAC `address` is bound to, if any (the boot timeline names who fetched what). */
  macAt?(address: string): string | null;
}

/** The peer address of the request's socket; IPv4-mapped IPv6 (dual-stack listener) as IPv4. */
export function requesterAddress(req: IncomingMessage): string | null {
  const a = req.socket.remoteAddress;
  if (!a) return null;
  return /^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(a) ? a.slice(7) : a;
}

export type ScopeVerdict =
  | { allowed: true; via: 'inventory-address' | 'dhcp-lease' }
  | { allowed: false; reason: 'requester-is-another-node' | 'requester-unknown'; message: string };

/** How `address` relates to `node`: is it the node's, and if not, whose. */
export function scopeVerdict(address: string | null, node: SnapshotNode, index: SnapshotIndex | null, leases: LeaseTable | null | undefined): ScopeVerdict {
  if (address !== null) {
    if (node.interfaces.some((i) => i.ipAddresses.includes(address))) return { allowed: true, via: 'inventory-address' };
    if (leases && node.interfaces.some((i) => leases.boundAddresses(i.mac).includes(address))) return { allowed: true, via: 'dhcp-lease' };
  }
  const owner = nodeAtAddress(index, address);
  if (owner) return { allowed: false, reason: 'requester-is-another-node', message: `${address} is the address of ${owner.xname}, not of ${node.xname}` };
  return {
    allowed: false,
    reason: 'requester-unknown',
    message: `${address ?? 'the requester'} is neither an inventory address of ${node.xname} nor this agent's DHCP lease for one of its MACs`,
  };
}

/** True when the request comes from `node` (see the module comment): the check for any node-scoped answer. */
export function requesterIsNode(req: IncomingMessage, node: SnapshotNode, leases?: LeaseTable | null): boolean {
  return scopeVerdict(requesterAddress(req), node, null, leases).allowed;
}

/**
 * Whether the boot script of `node` holds secrets (per-node iSCSI CHAP, for instance): the boot
 * payload in the snapshot says so. Such a script is node-scoped; a plain one (kernel URL and
 * parameters) is served by MAC to anyone, as a node in the PXE phase asks before it can prove
 * anything but the address DHCP gave it.
 */
export function bootCarriesSecrets(node: SnapshotNode): boolean {
  return node.boot?.carriesSecrets === true;
}

/** The node that owns inventory address `address`, if any. */
export function nodeAtAddress(index: SnapshotIndex | null, address: string | null): SnapshotNode | null {
  return address === null ? null : index?.byIp.get(address) ?? null;
}

/**
 * The node a request comes from, for recording what it was served (never for authorising):
 * the owner of the inventory address, else the node whose MAC this agent leased the address to.
 */
export function nodeOfRequester(index: SnapshotIndex | null, leases: LeaseTable | null | undefined, address: string | null): SnapshotNode | null {
  const owner = nodeAtAddress(index, address);
  if (owner || address === null) return owner;
  const mac = leases?.macAt?.(address);
  return mac ? index?.byMac.get(mac) ?? null : null;
}

/**
 * Throws a 403 `RequestRefusedError` unless the requester is `node`; `what` names the answer
 * ("cloud-init of x1", "a heartbeat for x1") for the body and the log.
 */
export function assertRequesterIsNode(requester: string | null, node: SnapshotNode, index: SnapshotIndex | null, leases: LeaseTable | null | undefined, claimed: Claim, what: string): void {
  const verdict = scopeVerdict(requester, node, index, leases);
  if (!verdict.allowed) throw new RequestRefusedError(403, verdict.reason, `${what} is answered only for requests from ${node.xname}: ${verdict.message}`, claimed);
}
