/**
 * Adapter: the iSCSI module's dracut parameters for a node whose boot configuration says
 * rootfsProvider ISCSI, with one path per portal of every agent of the site: the snapshot's
 * `iscsiPortals` (what each agent reported), with this agent's entry taken from its own config,
 * so its portals are there before its `agent.portals` observation has made the round trip and a
 * changed config wins over the snapshot. Every agent exports an image under the same naming,
 * so dm-multipath merges the paths.
 *
 * The root is named only once this agent exports it to the node (`access`); until then the
 * node gets a wait-and-ask-again script with the reason. With CHAP on, the node's own
 * credentials go into its netroot: such a script is for that node alone (bootScriptCarriesSecrets).
 */
import type { SnapshotAgentPortals, SnapshotBoot } from '../../schema/siteSnapshot.js';
import type { AgentConfig } from '../config.js';
import { iscsiKernelParameters, iscsiPathsFor } from '../iscsi/boot-params.js';
import { assertAgentName, initiatorIqnFor } from '../iscsi/naming.js';
import { advertisedPortals } from '../iscsi/portals-report.js';
import type { RootAccess } from '../iscsi/service.js';
import type { NodeKernelParameters } from '../pxe/http/bootScript.js';

/**
 * Whether the boot scripts of ISCSI nodes carry secrets (per-node CHAP): such a script must be
 * served only to the node it is for (node-scoped serving), and never logged.
 */
export function bootScriptCarriesSecrets(config: AgentConfig, boot: Pick<SnapshotBoot, 'rootfsProvider'>): boolean {
  return config.iscsi.mode !== 'off' && config.iscsi.chap !== 'off' && boot.rootfsProvider === 'ISCSI';
}

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
  access?: (xname: string, rootfsSha256: string) => RootAccess,
): NodeKernelParameters | undefined {
  if (config.iscsi.mode === 'off' || config.iscsi.portals.length === 0) return undefined;
  const own = advertisedPortals(config.iscsi);
  return (xname, boot) => {
    const domain = siteDomain();
    if (boot.rootfsProvider !== 'ISCSI' || !boot.rootfs) return undefined;
    if (!domain) return { wait: 'the site has no DNS domain, so its iSCSI targets have no names' };
    const granted = access?.(xname, boot.rootfs) ?? { ready: true, chap: null };
    if (!granted.ready) return { wait: granted.reason };
    return iscsiKernelParameters({
      initiatorIqn: initiatorIqnFor(xname),
      paths: iscsiPathsFor(domain, siteIscsiAgents(agentName, own, sitePortals()), boot.rootfs),
      rootfsSha256: boot.rootfs,
      ...(granted.chap ? { chap: granted.chap } : {}),
    }).join(' ');
  };
}
