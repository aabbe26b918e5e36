/**
 * Slurm-style hostlists: `x1000c0s[0-7]b0n[0-1]`, `nid[0001-0128]`, `a[1,3-5],b2`.
 *
 * Expansion follows Slurm's rules: commas outside brackets separate items; each bracket holds a
 * comma list of numbers and `lo-hi` ranges; several brackets in one item form their cartesian
 * product (leftmost varies slowest); a range whose lower bound has a leading zero (`[001-100]`)
 * pads every number to that width. Brackets do not nest (Slurm refuses `a[1[2]]`, and so do we).
 * No npm hostlist library implements these rules (the registry's are blocklist compilers), hence
 * this one module.
 */

export class HostlistError extends Error {
  override readonly name = 'HostlistError';
}

/** Refuse expansions that would not fit a command line's worth of nodes many times over. */
export const MAX_HOSTS = 1_000_000;

interface Range {
  lo: number;
  hi: number;
  width: number;
}

function parseRanges(body: string, item: string): Range[] {
  if (!body) throw new HostlistError(`hostlist "${item}": empty brackets`);
  return body.split(',').map((part) => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new HostlistError(`hostlist "${item}": "${part}" in brackets is not a number or lo-hi range`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo) throw new HostlistError(`hostlist "${item}": range ${part} runs backwards`);
    const width = m[1]!.length > 1 && m[1]!.startsWith('0') ? m[1]!.length : m[2] !== undefined && m[1]!.length === m[2].length ? m[1]!.length : 0;
    return { lo, hi, width };
  });
}

/** Top-level comma split: commas inside brackets belong to the range list. */
export function splitHostlist(list: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '[') {
      if (depth) throw new HostlistError(`hostlist "${list}": nested "[" at position ${i}`);
      depth = 1;
    } else if (c === ']') {
      if (!depth) throw new HostlistError(`hostlist "${list}": "]" without "[" at position ${i}`);
      depth = 0;
    } else if (c === ',' && !depth) {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (depth) throw new HostlistError(`hostlist "${list}": "[" is never closed`);
  items.push(list.slice(start));
  return items.map((s) => s.trim()).filter(Boolean);
}

function expandItem(item: string, out: string[]): void {
  // Alternating literal text and bracket range lists.
  const literals: string[] = [];
  const dims: Range[][] = [];
  const re = /\[([^\]]*)\]/g;
  let last = 0;
  for (let m = re.exec(item); m; m = re.exec(item)) {
    literals.push(item.slice(last, m.index));
    dims.push(parseRanges(m[1]!, item));
    last = m.index + m[0].length;
  }
  literals.push(item.slice(last));
  let count = 1;
  for (const d of dims) count *= d.reduce((n, r) => n + r.hi - r.lo + 1, 0);
  if (out.length + count > MAX_HOSTS) throw new HostlistError(`hostlist "${item}" expands to more than ${MAX_HOSTS} hosts`);
  const walk = (i: number, prefix: string): void => {
    if (i === dims.length) {
      out.push(prefix);
      return;
    }
    for (const r of dims[i]!) for (let n = r.lo; n <= r.hi; n++) walk(i + 1, prefix + String(n).padStart(r.width, '0') + literals[i + 1]);
  };
  walk(0, literals[0]!);
}

/** Every host of a hostlist, in the order written, duplicates kept out (first one wins). */
export function expandHostlist(list: string): string[] {
  const out: string[] = [];
  for (const item of splitHostlist(list)) expandItem(item, out);
  return [...new Set(out)];
}
