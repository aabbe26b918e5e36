/**
 * Slurm through its own commands (scontrol), run by the agent on a host that is a Slurm client
 * of the cluster (slurm.conf and munge key, as for any login node).
 *
 * - busy: the node has jobs: its state is ALLOCATED or MIXED, or it carries COMPLETING.
 * - drain: `scontrol update nodename=<n> state=DRAIN reason="skyboot …"`: running jobs go on,
 *   nothing new lands. A node someone else drained keeps its drain and their reason.
 * - resume: `state=RESUME` only when the drain is ours (its reason starts with "skyboot"), so a
 *   node an operator drained for a fault stays out of service after the reboot.
 * Node names come from the inventory's NIDs (nodeNameFormat) or the map file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import { createNodeNamer, parseNodeMap, type NodeNamer } from '../../../schema/slurmNodeNames.js';
import { isHeld } from './noneWorkload.js';
import { runCommand } from './runCommand.js';
import type { SlurmWorkloadConfig } from './workloadConfig.js';
import { WorkloadManagerError, type WorkloadManager, type WorkloadManagerDeps } from './workloadManager.js';

/** Every drain reason the agent sets starts with this; resume touches only such drains. */
export const SKYBOOT_DRAIN_PREFIX = 'skyboot';

export interface SlurmNodeState {
  /** Base state and flags, upper case: IDLE+DRAIN → ['IDLE', 'DRAIN']. */
  state: string[];
  reason: string | null;
}

/** Reads State= and Reason= (always the last field) from `scontrol show node -o <name>`. */
export function parseScontrolNode(line: string): SlurmNodeState {
  const state = /(?:^| )State=(\S+)/.exec(line)?.[1];
  if (!state) throw new Error(`no State= in ${JSON.stringify(line.slice(0, 200))}`);
  const reason = /(?:^| )Reason=(.*)$/.exec(line.trim())?.[1]?.trim() ?? null;
  return { state: state.toUpperCase().split('+'), reason: reason && reason !== '(null)' ? reason : null };
}

export const slurmNodeHasJobs = (s: SlurmNodeState): boolean =>
  s.state.some((f) => f === 'ALLOCATED' || f === 'MIXED' || f === 'COMPLETING');

const isDrained = (s: SlurmNodeState): boolean => s.state.some((f) => f === 'DRAIN' || f === 'DRAINED' || f === 'DRAINING');

export function createSlurmWorkload(config: SlurmWorkloadConfig, deps: WorkloadManagerDeps): WorkloadManager {
  const namer: NodeNamer = createNodeNamer(
    config.nodeNameFormat,
    config.nodeMapFile ? parseNodeMap(readFileSync(config.nodeMapFile, 'utf8'), config.nodeMapFile) : undefined,
  );
  const scontrolPath = config.binDir ? join(config.binDir, 'scontrol') : 'scontrol';
  const env = config.slurmConf ? { ...process.env, SLURM_CONF: config.slurmConf } : process.env;

  const nameOf = (op: 'is-idle' | 'drain' | 'resume', node: SnapshotNode): string => {
    const name = namer.slurmName(node);
    if (!name) throw new WorkloadManagerError('slurm', op, node.xname, 'no Slurm node name: the node has no NID in the inventory and no entry in the node map');
    return name;
  };

  async function scontrol(op: 'is-idle' | 'drain' | 'resume', node: SnapshotNode, args: string[]): Promise<string> {
    let r;
    try {
      r = await runCommand(scontrolPath, args, { timeoutMs: config.timeoutMs, env });
    } catch (err) {
      throw new WorkloadManagerError('slurm', op, node.xname, (err as Error).message);
    }
    if (r.code !== 0) throw new WorkloadManagerError('slurm', op, node.xname, `scontrol ${args.join(' ')}: exit status ${r.code}: ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  }

  const show = async (op: 'is-idle' | 'drain' | 'resume', node: SnapshotNode): Promise<SlurmNodeState> =>
    parseScontrolNode(await scontrol(op, node, ['show', 'node', '-o', nameOf(op, node)]));

  return {
    kind: 'slurm',
    // DRAIN lets running jobs finish and keeps new ones off: a busy node goes idle by itself.
    canDrainAhead: (node) => !isHeld(node),
    async isIdle(node) {
      if (isHeld(node)) return false;
      return !slurmNodeHasJobs(await show('is-idle', node));
    },
    async drain(node, reason) {
      const name = nameOf('drain', node);
      const current = await show('drain', node);
      if (isDrained(current) && !current.reason?.startsWith(SKYBOOT_DRAIN_PREFIX)) {
        deps.logger.info({ xname: node.xname, slurmNode: name, reason: current.reason }, 'slurm node already drained by someone else: left as it is');
        return;
      }
      const ours = reason.startsWith(SKYBOOT_DRAIN_PREFIX) ? reason : `${SKYBOOT_DRAIN_PREFIX}: ${reason}`;
      await scontrol('drain', node, ['update', `nodename=${name}`, 'state=DRAIN', `reason=${ours}`]);
      deps.logger.info({ xname: node.xname, slurmNode: name, reason: ours }, 'slurm node drained');
    },
    async resume(node) {
      const name = nameOf('resume', node);
      const current = await show('resume', node);
      const down = current.state.includes('DOWN');
      if (!(isDrained(current) || down) || !current.reason?.startsWith(SKYBOOT_DRAIN_PREFIX)) {
        deps.logger.info({ xname: node.xname, slurmNode: name, state: current.state, reason: current.reason }, 'slurm node not drained by skyboot: not resumed');
        return;
      }
      await scontrol('resume', node, ['update', `nodename=${name}`, 'state=RESUME']);
      deps.logger.info({ xname: node.xname, slurmNode: name }, 'slurm node resumed');
    },
  };
}
