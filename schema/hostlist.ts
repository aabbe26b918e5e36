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

/** A host split into literal text and numbers: "x1000c0s3" → ["x", 1000, "c", 0, "s", 3, ""]. */
type Num = { value: number; text: string };
type Token = string | Num;

function tokens(host: string): Token[] {
  const t: Token[] = [];
  for (const part of host.split(/(\d+)/)) t.push(/^\d+$/.test(part) ? { value: Number(part), text: part } : part);
  return t;
}

/** A numeric field holding a set of numbers of one width (0: unpadded). */
interface Field {
  width: number;
  values: number[];
}
type Pattern = (string | Field)[];

function widthOf(text: string): number {
  return text.length > 1 && text.startsWith('0') ? text.length : 0;
}

function fieldText(f: Field): string {
  const vals = [...new Set(f.values)].sort((a, b) => a - b);
  const pad = (n: number) => String(n).padStart(f.width, '0');
  if (vals.length === 1) return pad(vals[0]!);
  const parts: string[] = [];
  for (let i = 0; i < vals.length; ) {
    let j = i;
    while (j + 1 < vals.length && vals[j + 1] === vals[j]! + 1) j++;
    parts.push(j === i ? pad(vals[i]!) : `${pad(vals[i]!)}-${pad(vals[j]!)}`);
    i = j + 1;
  }
  return `[${parts.join(',')}]`;
}

function patternKey(p: Pattern, skip: number): string {
  return p.map((t, i) => (i === skip ? (typeof t === 'string' ? `?${t}` : '#') : typeof t === 'string' ? `s${t}` : `n${t.width}:${fieldText(t)}`)).join('\u0000');
}

/**
 * Merges one position's fields: padded ones by width; an unpadded number as long as the only
 * padded width (nid1000 beside nid0999) joins it, otherwise unpadded numbers form their own field.
 */
function mergeWidths(fields: Field[]): Field[] {
  const byWidth = new Map<number, number[]>();
  for (const f of fields) byWidth.set(f.width, [...(byWidth.get(f.width) ?? []), ...f.values]);
  const padded = [...byWidth.keys()].filter((w) => w > 0);
  const unpadded = byWidth.get(0);
  if (unpadded && padded.length === 1) {
    const w = padded[0]!;
    const fits = unpadded.filter((n) => String(n).length === w);
    byWidth.set(w, [...byWidth.get(w)!, ...fits]);
    const rest = unpadded.filter((n) => String(n).length !== w);
    if (rest.length) byWidth.set(0, rest);
    else byWidth.delete(0);
  }
  return [...byWidth.entries()].map(([width, values]) => ({ width, values }));
}

/**
 * The shortest bracket form Slurm would print for these hosts: fields merged from the last
 * number to the first, so `x1000c0s[0-1]b0n[0-1]` comes back from its four hosts. Hosts keep
 * the order of their first appearance per pattern.
 */
export function compressHostlist(hosts: readonly string[]): string {
  let patterns: Pattern[] = [...new Set(hosts)].map((h) =>
    tokens(h).map((t) => (typeof t === 'string' ? t : { width: widthOf(t.text), values: [t.value] })),
  );
  const maxLen = Math.max(0, ...patterns.map((p) => p.length));
  for (let dim = maxLen - 1; dim >= 0; dim--) {
    // Patterns equal everywhere but at `dim` merge there; widths are sorted out per group below.
    const groups = new Map<string, { template: Pattern; fields: Field[] }>();
    for (const [i, p] of patterns.entries()) {
      const f = p[dim];
      const key = f === undefined || typeof f === 'string' ? `${i}\u0001${patternKey(p, -1)}` : `${p.length}\u0001${patternKey(p, dim)}`;
      const held = groups.get(key);
      if (held && typeof f === 'object') held.fields.push(f);
      else groups.set(key, { template: p, fields: typeof f === 'object' ? [f] : [] });
    }
    patterns = [...groups.values()].flatMap(({ template, fields }) =>
      fields.length ? mergeWidths(fields).map((f) => template.map((t, i) => (i === dim ? f : t))) : [template],
    );
  }
  return patterns.map((p) => p.map((t) => (typeof t === 'string' ? t : fieldText(t))).join('')).join(',');
}
