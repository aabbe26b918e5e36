/**
 * A table of stored-item decoder cases: good items that must decode, and bad ones made from a
 * good item by one edit, each expecting a StoredItemError naming the key, the field and the reason.
 */
import { StoredItemError } from '../../functions/shared/storedItem.js';

type Item = Record<string, unknown>;

export interface BadCase {
  /** What the edit breaks, e.g. "missing xname". */
  name: string;
  /** Applied to a deep copy of the kind's good item. */
  edit: (item: Item) => void;
  /** The field path the error must name. */
  path: string;
  /** A fragment of the reason the error must give. */
  reason: string;
}

export interface DecoderCase {
  kind: string;
  /** Names the case when one kind has two decoders (e.g. the Site item as the API and as the snapshot code read it). */
  label?: string;
  decode: (item: Item) => unknown;
  good: Item[];
  bad: BadCase[];
}

/** structuredClone keeps Sets (DynamoDB string sets), which a JSON copy would not. */
export const copy = (item: Item): Item => structuredClone(item);

/** Runs the decoder on an item expected to be malformed and returns the error it raised. */
export function storedItemError(decode: (item: Item) => unknown, item: Item): StoredItemError {
  try {
    decode(item);
  } catch (err) {
    if (err instanceof StoredItemError) return err;
    throw new Error(`expected a StoredItemError, got ${String(err)}`, { cause: err });
  }
  throw new Error(`expected a StoredItemError for PK=${String(item.PK)} SK=${String(item.SK)}, but it decoded`);
}

export function describeDecoders(cases: DecoderCase[]): void {
  for (const c of cases) {
    describe(`${c.label ?? c.kind} decoder`, () => {
      it(`decodes every good ${c.kind} item (${c.good.length})`, () => {
        expect(c.good.length).toBeGreaterThan(0);
        for (const item of c.good) expect(() => c.decode(item)).not.toThrow();
      });
      it.each(c.bad.map((b) => [b.name, b] as const))('refuses %s', (_name, b) => {
        const item = copy(c.good[0]!);
        b.edit(item);
        const err = storedItemError(c.decode, item);
        expect(err.code).toBe('INTERNAL_SERVER_ERROR');
        expect(err.kind).toBe(c.kind);
        expect(err.key).toEqual({ PK: item.PK, SK: item.SK });
        expect(err.path).toBe(b.path);
        expect(err.reason).toContain(b.reason);
        expect(err.message).toContain(`PK=${String(item.PK)} SK=${String(item.SK)}`);
        expect(err.message).toContain(b.path);
      });
    });
  }
}
