/** Seeded input generation: a small PRNG, byte-level mutators and JSON-aware mutators. */

/** mulberry32: fast, seedable, good enough to spread mutations. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const BOUNDARY_BYTES = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x20, 0x2e, 0x3a, 0x2f, 0x25];
const BOUNDARY_INTS = [0, 1, -1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, -0, 0.5];
const UNICODE = ['\u0000', '\u00ff', '\u0100', '\u2028', '\ud800', '\udfff', '\ufeff', '\u{1f600}', 'é', '\u202e', '%00', '%', '%zz', '%ff', '..', '/', '\\', '\r\n'];

export const boundaryInts: readonly number[] = BOUNDARY_INTS;
export const oddStrings: readonly string[] = UNICODE;

/** One byte-level mutation of `input` (never in place); `others` feed splicing. */
export function mutateBytes(rng: Rng, input: Buffer, others: readonly Buffer[], maxLength = 4096): Buffer {
  let b = Buffer.from(input);
  const at = (): number => rng.int(Math.max(1, b.length));
  switch (rng.int(11)) {
    case 0: // bit flips
      for (let i = 1 + rng.int(4); i > 0 && b.length; i--) b[at()]! ^= 1 << rng.int(8);
      break;
    case 1: // random bytes
      for (let i = 1 + rng.int(4); i > 0 && b.length; i--) b[at()] = rng.int(256);
      break;
    case 2: // boundary bytes
      for (let i = 1 + rng.int(3); i > 0 && b.length; i--) b[at()] = rng.pick(BOUNDARY_BYTES);
      break;
    case 3: // truncation
      b = b.subarray(0, rng.int(b.length + 1));
      break;
    case 4: { // splice with another input
      const o = others.length ? rng.pick(others) : b;
      const cut = at();
      const from = rng.int(Math.max(1, o.length));
      b = Buffer.concat([b.subarray(0, cut), o.subarray(from, from + rng.int(o.length + 1))]);
      break;
    }
    case 5: { // length-field corruption: a byte that a nearby length byte would cover
      if (b.length < 2) break;
      const i = at();
      b[i] = rng.pick([0, 1, 2, 3, 4, 16, 17, 127, 128, 254, 255, Math.max(0, b.length - i - 2), b.length - i - 1 & 0xff, b.length - i & 0xff]);
      break;
    }
    case 6: { // 16/32-bit boundary integers
      if (b.length < 4) break;
      const i = rng.int(b.length - 3);
      const v = rng.pick([0, 1, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff]);
      if (rng.chance(0.5)) b.writeUInt16BE(v & 0xffff, i);
      else b.writeUInt32BE(v >>> 0, i);
      break;
    }
    case 7: { // insert a run (long strings)
      const run = Buffer.alloc(rng.pick([1, 8, 64, 255, 256, 1024]), rng.pick([0x41, 0, 0xff, 0x2f, 0x25, 0x2e]));
      const i = at();
      b = Buffer.concat([b.subarray(0, i), run, b.subarray(i)]);
      break;
    }
    case 8: { // delete a range
      const i = at();
      b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + rng.int(16))]);
      break;
    }
    case 9: { // duplicate a range
      const i = at();
      const n = 1 + rng.int(32);
      b = Buffer.concat([b.subarray(0, i + n), b.subarray(i, i + n), b.subarray(i + n)]);
      break;
    }
    default: { // unicode / path tokens
      const i = at();
      b = Buffer.concat([b.subarray(0, i), Buffer.from(rng.pick(UNICODE), 'utf8'), b.subarray(i)]);
    }
  }
  return b.length > maxLength ? b.subarray(0, maxLength) : b;
}

/** Several stacked mutations, as AFL's havoc stage does. */
export function havoc(rng: Rng, input: Buffer, others: readonly Buffer[], maxLength = 4096): Buffer {
  let b = input;
  for (let i = 1 + rng.int(rng.chance(0.2) ? 8 : 3); i > 0; i--) b = mutateBytes(rng, b, others, maxLength);
  return b;
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

function randomValue(rng: Rng, depth = 0): JsonValue {
  switch (rng.int(depth > 2 ? 5 : 7)) {
    case 0: return null;
    case 1: return rng.chance(0.5);
    case 2: return rng.pick(BOUNDARY_INTS);
    case 3: return rng.pick(UNICODE) + 'x'.repeat(rng.pick([0, 1, 100, 5000]));
    case 4: return '';
    case 5: return [randomValue(rng, depth + 1), randomValue(rng, depth + 1)];
    default: return { '@odata.id': rng.pick(['/redfish/v1/', '/redfish/v1/Systems', '', '/x']), a: randomValue(rng, depth + 1) };
  }
}

function deep(n: number, asArray: boolean): JsonValue {
  let v: JsonValue = 1;
  for (let i = 0; i < n; i++) v = asArray ? [v] : { a: v };
  return v;
}

/** Structural mutation of a parsed JSON document: wrong types, deleted keys, deep nesting, odd strings. */
export function mutateJson(rng: Rng, doc: unknown): unknown {
  const copy = structuredClone(doc) as JsonValue;
  const nodes: Array<{ parent: JsonValue[] | { [k: string]: JsonValue }; key: string | number }> = [];
  const walk = (v: JsonValue, d: number): void => {
    if (d > 12 || nodes.length > 2000) return;
    if (Array.isArray(v)) v.forEach((x, i) => { nodes.push({ parent: v, key: i }); walk(x, d + 1); });
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) { nodes.push({ parent: v, key: k }); walk(v[k]!, d + 1); }
  };
  walk(copy, 0);
  if (nodes.length === 0) return rng.chance(0.5) ? randomValue(rng) : copy;
  for (let i = 1 + rng.int(3); i > 0; i--) {
    const n = rng.pick(nodes);
    const p = n.parent as Record<string | number, JsonValue>;
    switch (rng.int(7)) {
      case 0: p[n.key] = randomValue(rng); break;
      case 1: if (Array.isArray(n.parent)) n.parent.splice(n.key as number, 1); else delete p[n.key]; break;
      case 2: p[n.key] = deep(rng.pick([10, 100, 1000, 3000]), rng.chance(0.5)); break;
      case 3: p[n.key] = typeof p[n.key] === 'string' ? (p[n.key] as string) + rng.pick(UNICODE) : String(p[n.key]); break;
      case 4: p[n.key] = Array.isArray(p[n.key]) ? Array.from({ length: rng.pick([0, 1, 50, 1000]) }, () => (p[n.key] as JsonValue[])[0] ?? null) : [p[n.key]!]; break;
      case 5: { const o = rng.pick(nodes); p[n.key] = structuredClone((o.parent as Record<string | number, JsonValue>)[o.key] ?? null); break; }
      default: p[n.key] = typeof p[n.key] === 'number' ? rng.pick(BOUNDARY_INTS) : rng.pick([0, -1, 1.5, 2 ** 53]);
    }
  }
  return copy;
}
