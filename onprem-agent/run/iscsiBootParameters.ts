/**
 * Adapter: the iSCSI module's dracut parameters for a node whose boot configuration says
 * rootfsProvider ISCSI, from this agent's own portals (config.iscsi.portals). Other agents'
 * portals are not in the snapshot yet, so a node gets one path per portal of this agent; CHAP
 * secrets stay out of the script (docs/iscsi.md).
 */
import type { SnapshotBoot } from '../../functions/sites/snapshotFormat.js';
import type { AgentConfig } from '../config.js';
import { iscsiKernelParameters, iscsiPathsFor } from '../iscsi/boot-params.js';
import { initiatorIqnFor } from '../iscsi/naming.js';

export function iscsiBootParameters(config: AgentConfig, agentName: string, siteDomain: () => string | null): ((xname: string, boot: SnapshotBoot) => string | undefined) | undefined {
  if (config.iscsi.mode === 'off' || config.iscsi.portals.length === 0) return undefined;
  return (xname, boot) => {
    const domain = siteDomain();
    if (boot.rootfsProvider !== 'ISCSI' || !boot.rootfs || !domain) return undefined;
    return iscsiKernelParameters({
      initiatorIqn: initiatorIqnFor(xname),
      paths: iscsiPathsFor(domain, [{ agentName, portals: config.iscsi.portals }], boot.rootfs),
      rootfsSha256: boot.rootfs,
    }).join(' ');
  };
}
