/**
 * Adapter: the iSCSI module's dracut parameters for a node whose boot configuration says
 * rootfsProvider ISCSI, with one path per portal of every agent of the site: the snapshot's
 * `iscsiPortals` (what each agent reported), with this agent's entry taken from its own config,
 * so its portals are there before its `agent.portals` observation has made the round trip and a
 * changed config wins over the snapshot. Every agent exports an image under the same naming,
 * so dm-multipath merges the paths. CHAP secrets stay out of the script (docs/iscsi.md).
 */
import type { SnapshotAgentPortals, SnapshotBoot } from '../../schema/siteSnapshot.js';
import type { AgentConfig } from '../config.js';
import { iscsiKernelParameters, iscsiPathsFor } from '../iscsi/boot-params.js';
import { assertAgentName, initiatorIqnFor } from '../iscsi/naming.js';
import { advertisedPortals } from '../iscsi/portals-report.js';

/** The site's agents and their portals, this agent's own from config, sorted by agent. */
export function siteIscsiAgents(agentName: string, ownPortals: string[], reported: readonly SnapshotAgentPortals[]): Array<{ agentName: string; portals: string[] }> {
  const self = assertAgentName(agentName);
  const agents = new Map(reported.map((a) => [a.agent.toLowerCase(), a.portals]));
  agents.set(self, ownPortals);
  return [...agents.entries()]
    .filter(([, portals]) => portals.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, portals]) => ({ agentName: name, portals }));
}

export function iscsiBootParameters(
  config: AgentConfig,
  agentName: string,
  siteDomain: () => string | null,
  sitePortals: () => readonly SnapshotAgentPortals[] = () => [],
): ((xname: string, boot: SnapshotBoot) => string | undefined) | undefined {
  if (config.iscsi.mode === 'off' || config.iscsi.portals.length === 0) return undefined;
  const own = advertisedPortals(config.iscsi);
  return (xname, boot) => {
    const domain = siteDomain();
    if (boot.rootfsProvider !== 'ISCSI' || !boot.rootfs || !domain) return undefined;
    return iscsiKernelParameters({
      initiatorIqn: initiatorIqnFor(xname),
      paths: iscsiPathsFor(domain, siteIscsiAgents(agentName, own, sitePortals()), boot.rootfs),
      rootfsSha256: boot.rootfs,
    }).join(' ');
  };
}
