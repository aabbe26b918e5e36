/**
 * A site command speaks for the workload manager (PBS, LSF, anything): one process per call,
 * a JSON request on stdin, a JSON answer on stdout (docs/orchestration.md, "Workload managers"):
 *
 *   stdin:  { "op": "is-idle" | "drain" | "resume", "node": { xname, nid, role, subRole, groups }, "reason"?: string }
 *   stdout: is-idle → { "idle": true|false };  drain, resume → { "ok": true }
 *   exit 0 with that answer; any other exit status, no answer, or a timeout fails the call
 *   (the rollout records the error on the node and does not take it).
 */
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import { isHeld } from './noneWorkload.js';
import { runCommand } from './runCommand.js';
import type { ExecWorkloadConfig } from './workloadConfig.js';
import { WorkloadManagerError, type WorkloadManager, type WorkloadManagerDeps } from './workloadManager.js';

export type ExecOp = 'is-idle' | 'drain' | 'resume';

export interface ExecRequest {
  op: ExecOp;
  node: { xname: string; nid: number | null; role: string | null; subRole: string | null; groups: string[] };
  reason?: string;
}

const MAX_SHOWN = 500;

export function createExecWorkload(config: ExecWorkloadConfig, deps: WorkloadManagerDeps): WorkloadManager {
  async function call(op: ExecOp, node: SnapshotNode, reason?: string): Promise<Record<string, unknown>> {
    const request: ExecRequest = {
      op,
      node: { xname: node.xname, nid: node.nid, role: node.role, subRole: node.subRole, groups: node.groups },
      ...(reason === undefined ? {} : { reason }),
    };
    const fail = (why: string) => new WorkloadManagerError('exec', op, node.xname, `${config.command}: ${why}`);
    let result;
    try {
      result = await runCommand(config.command, config.args, { stdin: JSON.stringify(request), timeoutMs: config.timeoutMs });
    } catch (err) {
      throw fail((err as Error).message);
    }
    if (result.code !== 0) {
      const status = result.signal ? `killed by ${result.signal}` : `exit status ${result.code}`;
      throw fail(`${status}${result.stderr.trim() ? `: ${result.stderr.trim().slice(0, MAX_SHOWN)}` : ''}`);
    }
    let answer: unknown;
    try {
      answer = JSON.parse(result.stdout);
    } catch {
      throw fail(`answer is not JSON: ${JSON.stringify(result.stdout.slice(0, MAX_SHOWN))}`);
    }
    if (!answer || typeof answer !== 'object' || Array.isArray(answer)) throw fail(`answer is not a JSON object: ${result.stdout.trim().slice(0, MAX_SHOWN)}`);
    deps.logger.debug({ op, xname: node.xname, answer }, 'workload exec answered');
    return answer as Record<string, unknown>;
  }

  async function act(op: 'drain' | 'resume', node: SnapshotNode, reason?: string): Promise<void> {
    const answer = await call(op, node, reason);
    if (answer.ok !== true) throw new WorkloadManagerError('exec', op, node.xname, `${config.command}: answered ${JSON.stringify(answer)}, expected {"ok":true}`);
  }

  return {
    kind: 'exec',
    async isIdle(node) {
      if (isHeld(node)) return false;
      const answer = await call('is-idle', node);
      if (typeof answer.idle !== 'boolean') throw new WorkloadManagerError('exec', 'is-idle', node.xname, `${config.command}: answered ${JSON.stringify(answer)}, expected {"idle":true|false}`);
      return answer.idle;
    },
    drain: (node, reason) => act('drain', node, reason),
    resume: (node) => act('resume', node),
    canDrainAhead: (node) => !isHeld(node),
  };
}
