/**
 * Turns what the DHCP and TFTP servers report into boot-timeline events for the node concerned.
 * The servers know a MAC (DHCP) or a client address (TFTP); the snapshot and this agent's leases
 * say which node that is. Traffic from machines that are no inventory node is not recorded: the
 * timeline is per node, and unknown machines must not be able to fill it.
 */
import type { DhcpReplySent } from '../pxe/dhcp/server.js';
import { nodeOfRequester, type LeaseTable } from '../pxe/http/nodeScope.js';
import type { TftpTransferEnded } from '../pxe/tftp/server.js';
import type { SnapshotIndex } from '../sync/snapshotStore.js';
import type { BootStage, BootTimeline } from './bootTimeline.js';

const DHCP_STAGE: Partial<Record<DhcpReplySent['kind'], BootStage>> = {
  offer: 'dhcp.offer',
  'proxy-offer': 'dhcp.offer',
  ack: 'dhcp.ack',
  'proxy-ack': 'dhcp.ack',
  'inform-ack': 'dhcp.ack',
};

export function recordDhcpReply(timeline: BootTimeline, index: () => SnapshotIndex | null) {
  return (sent: DhcpReplySent): void => {
    const stage = DHCP_STAGE[sent.kind];
    const node = stage ? index()?.byMac.get(sent.mac) : undefined;
    if (!stage || !node) return;
    const parts = [sent.kind, sent.address !== '0.0.0.0' ? sent.address : null, sent.bootFile ? `boot file ${sent.bootFile}` : null];
    timeline.record({ xname: node.xname, stage, at: new Date().toISOString(), detail: parts.filter(Boolean).join(', ') });
  };
}

export function recordTftpTransfer(timeline: BootTimeline, index: () => SnapshotIndex | null, leases: LeaseTable | null) {
  return (t: TftpTransferEnded): void => {
    const node = nodeOfRequester(index(), leases, t.client);
    if (!node) return;
    const detail = t.ok ? `${t.file}, ${t.bytes} bytes` : `${t.file} failed: ${t.reason ?? 'unknown'}`;
    timeline.record({ xname: node.xname, stage: 'tftp', at: new Date().toISOString(), detail });
  };
}
