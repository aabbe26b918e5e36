/**
 * The agent's `workload` configuration key. In the config file it is a kind (`"slurm"`) or an
 * object `{ "kind": …, …options }`; `--workload <kind>` and SKYBOOT_AGENT_WORKLOAD take a kind or
 * (the environment only) the object as JSON. Unknown options are refused, naming the key.
 */
import { resolve } from 'node:path';
import { BadUserInputError } from '../../../schema/errors.js';
import { DEFAULT_SLURM_NODE_NAME_FORMAT, parseNodeNameFormat } from '../../../schema/slurmNodeNames.js';
import { WORKLOAD_KINDS, type WorkloadKind } from './workloadManager.js';

export interface NoneWorkloadConfig {
  kind: 'none';
}

export interface ExecWorkloadConfig {
  kind: 'exec';
  /** The site command (absolute path or on PATH); docs/orchestration.md gives its JSON protocol. */
  command: string;
  args: string[];
  /** A call that outlives this is killed and fails. */
  timeoutMs: number;
}

export interface SlurmWorkloadConfig {
  kind: 'slurm';
  /** Slurm node name from the inventory's NID, printf-style (`nid%06d` → nid000007). */
  nodeNameFormat: string;
  /** JSON object Slurm node name → xname; wins over the format for the nodes it names. */
  nodeMapFile: string | null;
  /** SLURM_CONF for scontrol/squeue (null: Slurm's own default, /etc/slurm/slurm.conf). */
  slurmConf: string | null;
  /** Directory of scontrol and squeue (null: PATH). */
  binDir: string | null;
  timeoutMs: number;
}

export type WorkloadConfig = NoneWorkloadConfig | ExecWorkloadConfig | SlurmWorkloadConfig;

export const DEFAULT_WORKLOAD_TIMEOUT_SECONDS = 30;

const OPTIONS: Record<WorkloadKind, readonly string[]> = {
  none: ['kind'],
  exec: ['kind', 'command', 'args', 'timeoutSeconds'],
  slurm: ['kind', 'nodeNameFormat', 'nodeMapFile', 'slurmConf', 'binDir', 'timeoutSeconds'],
};

function optionalString(o: Record<string, unknown>, key: string, field: string): string | null {
  const v = o[key];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new BadUserInputError(`${field}.${key}`, `${JSON.stringify(v)} is not a string`);
  return v;
}

function timeoutMs(o: Record<string, unknown>, field: string): number {
  const v = o.timeoutSeconds;
  if (v === undefined) return DEFAULT_WORKLOAD_TIMEOUT_SECONDS * 1000;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new BadUserInputError(`${field}.timeoutSeconds`, `${JSON.stringify(v)} is not a positive number of seconds`);
  return Math.round(n * 1000);
}

function asObject(raw: unknown, field: string): Record<string, unknown> {
  if (typeof raw === 'string') {
    const s = raw.trim();
    if (s.startsWith('{')) {
      try {
        return asObject(JSON.parse(s), field);
      } catch (err) {
        if (err instanceof BadUserInputError) throw err;
        throw new BadUserInputError(field, `not JSON: ${(err as Error).message}`);
      }
    }
    return { kind: s };
  }
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
  throw new BadUserInputError(field, `${JSON.stringify(raw)} is neither a kind (${WORKLOAD_KINDS.join(', ')}) nor an object { kind, … }`);
}

/** Validates the raw `workload` value; absent means `none`. */
export function parseWorkloadConfig(raw: unknown, field = 'workload'): WorkloadConfig {
  if (raw === undefined || raw === null || raw === '') return { kind: 'none' };
  const o = asObject(raw, field);
  const kind = o.kind;
  if (typeof kind !== 'string' || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) {
    throw new BadUserInputError(`${field}.kind`, `${JSON.stringify(kind)} is not one of ${WORKLOAD_KINDS.join(', ')}`);
  }
  const k = kind as WorkloadKind;
  const unknown = Object.keys(o).filter((key) => !OPTIONS[k].includes(key));
  if (unknown.length) {
    throw new BadUserInputError(`${field}.${unknown[0]}`, `unknown option for kind ${k}; known: ${OPTIONS[k].join(', ')}`);
  }
  if (k === 'none') return { kind: 'none' };
  if (k === 'exec') {
    const command = optionalString(o, 'command', field);
    if (!command) throw new BadUserInputError(`${field}.command`, 'kind exec needs the site command to run');
    const args = o.args ?? [];
    if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new BadUserInputError(`${field}.args`, 'must be a list of strings');
    return { kind: 'exec', command, args: args as string[], timeoutMs: timeoutMs(o, field) };
  }
  const nodeNameFormat = optionalString(o, 'nodeNameFormat', field) ?? DEFAULT_SLURM_NODE_NAME_FORMAT;
  parseNodeNameFormat(nodeNameFormat, `${field}.nodeNameFormat`);
  const mapFile = optionalString(o, 'nodeMapFile', field);
  const slurmConf = optionalString(o, 'slurmConf', field);
  const binDir = optionalString(o, 'binDir', field);
  return {
    kind: 'slurm',
    nodeNameFormat,
    nodeMapFile: mapFile ? resolve(mapFile) : null,
    slurmConf: slurmConf ? resolve(slurmConf) : null,
    binDir: binDir ? resolve(binDir) : null,
    timeoutMs: timeoutMs(o, field),
  };
}
