/**
 * Slurm node names ↔ xnames, shared by the agent's Slurm adapter (xname → name, to drain) and
 * `skyboot-slurm-reboot` (name → xname, for applyStaged). A site names its nodes from the
 * inventory's NIDs with a printf-style format (`nid%06d` → nid000007; one `%d` or `%0<width>d`),
 * or lists them in a map (JSON object: Slurm node name → xname), which wins for the names it holds.
 */
import { BadUserInputError } from './errors.js';

export const DEFAULT_SLURM_NODE_NAME_FORMAT = 'nid%06d';

export interface NodeNameFormat {
  prefix: string;
  width: number;
  suffix: string;
}

export function parseNodeNameFormat(format: string, field = 'nodeNameFormat'): NodeNameFormat {
  const m = /^([^%]*)%(0\d+)?d([^%]*)$/.exec(format);
  if (!m) throw new BadUserInputError(field, `"${format}" needs exactly one %d or %0<width>d (e.g. nid%06d)`);
  return { prefix: m[1]!, width: m[2] ? Number(m[2]) : 0, suffix: m[3]! };
}

export function formatNodeName(f: NodeNameFormat, nid: number): string {
  return `${f.prefix}${String(nid).padStart(f.width, '0')}${f.suffix}`;
}

/** The NID a name carries under the format, or null when it does not fit. */
export function nidFromNodeName(f: NodeNameFormat, name: string): number | null {
  if (!name.startsWith(f.prefix) || !name.endsWith(f.suffix)) return null;
  const digits = name.slice(f.prefix.length, name.length - f.suffix.length);
  if (!/^\d+$/.test(digits) || (f.width > 0 && digits.length < f.width)) return null;
  return Number(digits);
}

/** Parses a map file's text: a JSON object of Slurm node name → xname. */
export function parseNodeMap(text: string, source: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadUserInputError(source, `not JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new BadUserInputError(source, 'expected a JSON object of Slurm node name → xname');
  const out = new Map<string, string>();
  for (const [name, xname] of Object.entries(parsed)) {
    if (typeof xname !== 'string' || !xname) throw new BadUserInputError(`${source}.${name}`, `${JSON.stringify(xname)} is not an xname`);
    out.set(name, xname);
  }
  return out;
}

export interface NodeNamer {
  /** The node's Slurm name: the map's entry for the xname, else the format over the NID; null without either. */
  slurmName(node: { xname: string; nid: number | null }): string | null;
  /** The xname a Slurm name stands for (map, else format + `xnameForNid`); null when unknown. */
  xname(name: string, xnameForNid: (nid: number) => string | null): string | null;
}

export function createNodeNamer(format: string, map: ReadonlyMap<string, string> = new Map()): NodeNamer {
  const f = parseNodeNameFormat(format);
  const byXname = new Map([...map].map(([name, xname]) => [xname, name]));
  return {
    slurmName: (node) => byXname.get(node.xname) ?? (node.nid === null ? null : formatNodeName(f, node.nid)),
    xname: (name, xnameForNid) => {
      const mapped = map.get(name);
      if (mapped) return mapped;
      const nid = nidFromNodeName(f, name);
      return nid === null ? null : xnameForNid(nid);
    },
  };
}
