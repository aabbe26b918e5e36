/**
 * Stored items are decoded, never cast: every item kind read from DynamoDB has one decoder,
 * declared next to that kind's store code, and `decodeStored` is the only way an item becomes
 * its typed record. A malformed item (a hand edit, a half-migrated layout, a bug in a writer)
 * then fails as a `StoredItemError` naming the item's key, the field, the value and the reason,
 * which the gateway reports as INTERNAL_SERVER_ERROR, instead of a TypeError deep in a resolver.
 *
 * Why a small decoder of our own rather than a schema library (zod, as Powertools' Parser uses):
 * the items are flat records of strings, numbers, booleans, enums, lists and string sets, which
 * the dozen combinators below cover; they add no dependency, and their errors carry the item
 * key, which a library's would need wrapping for anyway. Bundled with the stack's esbuild
 * options (cdk/lib/bundling.ts `esbuildOptions`), this module and the decoders grow the five
 * domain bundles by 2.3-4.0 KB each (under 0.6 %: inventory 565,513 -> 567,863 bytes, sites
 * 762,803 -> 766,785). A schema library would be a dependency of every bundle on top of that.
 * The `Decoder<T>` a kind declares is checked against the kind's type (`const d:
 * Decoder<ImageItem> = ...`), so the type and the decoder cannot drift apart.
 */
import { SkybootError } from '../../schema/errors.js';

type Item = Record<string, unknown>;

/** Turns an unknown value at `path` into a T, or throws FieldProblem. */
export type Decoder<T> = (value: unknown, path: string) => T;

/** A field that may be absent (or NULL) in a stored item; `object` leaves it out of the record. */
export interface OptionalDecoder<T> extends Decoder<T | undefined> {
  readonly optional: true;
}

export type Decoded<D> = D extends Decoder<infer T> ? T : never;

/** Raised inside a decoder; decodeStored adds the item key and kind. */
class FieldProblem extends Error {
  constructor(
    readonly path: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

const MAX_SHOWN = 80;

/** The value as a log and a message can show it: JSON, cut to MAX_SHOWN characters. */
function shown(value: unknown): string {
  let text: string;
  if (value === undefined) return 'undefined';
  if (value instanceof Set) text = `Set(${JSON.stringify([...value])})`;
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** A stored item that does not have the shape its kind requires. Reported as INTERNAL_SERVER_ERROR: the caller's input is fine, the table is not. */
export class StoredItemError extends SkybootError {
  readonly kind: string;
  readonly key: { PK: string; SK: string };
  readonly path: string;
  readonly value: string;
  readonly reason: string;
  constructor(kind: string, key: { PK: string; SK: string }, path: string, value: unknown, reason: string) {
    const v = shown(value);
    super('INTERNAL_SERVER_ERROR', `stored ${kind} item PK=${key.PK} SK=${key.SK} is malformed: ${path} = ${v}: ${reason}`);
    this.kind = kind;
    this.key = key;
    this.path = path;
    this.value = v;
    this.reason = reason;
  }

  /** The fields a structured log carries. */
  toLog(): Record<string, unknown> {
    return { kind: this.kind, PK: this.key.PK, SK: this.key.SK, path: this.path, value: this.value, reason: this.reason };
  }
}

function fail(path: string, value: unknown, reason: string): never {
  throw new FieldProblem(path, value, reason);
}

export const str: Decoder<string> = (v, p) => (typeof v === 'string' ? v : fail(p, v, 'is not a string'));

export const num: Decoder<number> = (v, p) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(p, v, 'is not a number'));

export const int: Decoder<number> = (v, p) => (typeof v === 'number' && Number.isInteger(v) ? v : fail(p, v, 'is not an integer'));

export const bool: Decoder<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, v, 'is not a boolean'));

export function oneOf<T extends string>(values: readonly T[]): Decoder<T> {
  return (v, p) => (typeof v === 'string' && (values as readonly string[]).includes(v) ? (v as T) : fail(p, v, `is not one of ${values.join(', ')}`));
}

export function matching(re: RegExp, what: string): Decoder<string> {
  return (v, p) => (typeof v === 'string' && re.test(v) ? v : fail(p, v, `is not ${what}`));
}

/** Absent or NULL becomes undefined (items written before the field existed, or with it unset). */
export function optional<T>(d: Decoder<T>): OptionalDecoder<T> {
  const o = ((v: unknown, p: string) => (v === undefined || v === null ? undefined : d(v, p))) as OptionalDecoder<T>;
  return Object.assign(o, { optional: true as const });
}

/** Absent or NULL becomes null (the API's shape for an unset field). */
export function nullable<T>(d: Decoder<T>): Decoder<T | null> {
  return (v, p) => (v === undefined || v === null ? null : d(v, p));
}

/** Absent or NULL becomes `fallback` (a field older items do not have). */
export function withDefault<T>(d: Decoder<T>, fallback: T): Decoder<T> {
  return (v, p) => (v === undefined || v === null ? fallback : d(v, p));
}

export function list<T>(d: Decoder<T>): Decoder<T[]> {
  return (v, p) => (Array.isArray(v) ? v.map((e, i) => d(e, `${p}[${i}]`)) : fail(p, v, 'is not a list'));
}

/** A DynamoDB string set (the SDK gives a Set) or list, as a sorted array; absent is empty (DynamoDB stores no empty set). */
export const stringSet: Decoder<string[]> = (v, p) => {
  if (v === undefined || v === null) return [];
  const values = v instanceof Set ? [...(v as Set<unknown>)] : Array.isArray(v) ? v : fail(p, v, 'is not a string set');
  return values.map((e, i) => str(e, `${p}[${i}]`)).sort();
};

/** Any map, unchecked inside: for parts whose fields the API passes through as they are. */
export const anyMap: Decoder<Item> = (v, p) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Set) ? (v as Item) : fail(p, v, 'is not a map'));

type Shape = Record<string, Decoder<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends OptionalDecoder<unknown> ? K : never }[keyof S];
type Flat<T> = { [K in keyof T]: T[K] };
export type Fields<S extends Shape> = Flat<{ [K in Exclude<keyof S, OptionalKeys<S>>]: Decoded<S[K]> } & { [K in OptionalKeys<S>]?: Exclude<Decoded<S[K]>, undefined> }>;

/** A map with exactly the shape's fields (others, such as index keys, are dropped); absent optional fields stay absent. */
export function object<S extends Shape>(shape: S): Decoder<Fields<S>> {
  return (v, p) => {
    const m = anyMap(v, p);
    const out: Item = {};
    for (const [k, d] of Object.entries(shape)) {
      const value = d(m[k], p ? `${p}.${k}` : k);
      if (value !== undefined) out[k] = value;
    }
    return out as Fields<S>;
  };
}

/** The one way a stored item becomes a typed record; `kind` names it in the error (e.g. "Image"). */
export function decodeStored<T>(kind: string, decoder: Decoder<T>, item: Item): T {
  try {
    return decoder(item, '');
  } catch (err) {
    if (!(err instanceof FieldProblem)) throw err;
    throw new StoredItemError(kind, { PK: String(item.PK), SK: String(item.SK) }, err.path, err.value, err.reason);
  }
}

/** A decoder bound to its kind, as store code uses it: `decodeImage(item)`. */
export function storedDecoder<T>(kind: string, decoder: Decoder<T>): (item: Item) => T {
  return (item) => decodeStored(kind, decoder, item);
}
