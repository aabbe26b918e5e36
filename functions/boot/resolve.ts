/**
 * Resolution: a node's facts → candidate binding values → the winning binding. The pure part
 * (pickBinding) is what the bench times and what a snapshot builder can call for every node.
 */
import { batchGet } from '../shared/batchGet.js';
import type { Clients } from '../shared/clients.js';
import { bindingKey } from './keys.js';
import { int, nullable, object, oneOf, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';
import type { BootPayload } from '../../schema/bootPayload.js';
import type { NodeFactsRecord } from './nodeFacts.js';
import { candidateValues, describeBinding, type SelectorKind } from './selector.js';

/** What a binding item carries: a copy of its configuration's boot payload. */
export interface Binding extends BootPayload {
  value: string;
  configId: string;
  site: string;
  priority: number;
}

export interface Resolution {
  binding: Binding;
  matchedSelector: string;
  matchedKind: SelectorKind;
  matchedValue: string;
  candidates: string[];
}

const RANK: Record<SelectorKind, number> = { XNAME: 0, MAC: 1, NID: 2, GROUP: 3, ROLE: 4, DEFAULT: 5, UNKNOWN: 6 };

/**
 * Picks the winner among the bindings found for `candidates` (already in precedence order).
 * Within GROUP: higher priority first, then the lexicographically smallest label.
 */
export function pickBinding(candidates: string[], found: Map<string, Binding>): Resolution | null {
  const matched = candidates.filter((v) => found.has(v));
  if (!matched.length) return null;
  const order = matched.map((v, i) => ({ v, i, kind: describeBinding(v).kind, b: found.get(v)! }));
  order.sort((a, b) => {
    if (RANK[a.kind] !== RANK[b.kind]) return RANK[a.kind] - RANK[b.kind];
    if (a.kind === 'GROUP') {
      if (a.b.priority !== b.b.priority) return b.b.priority - a.b.priority;
      return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
    }
    return a.i - b.i;
  });
  const winner = order[0]!;
  const d = describeBinding(winner.v);
  return { binding: winner.b, matchedSelector: d.text, matchedKind: d.kind, matchedValue: d.value, candidates: order.map((o) => describeBinding(o.v).text) };
}

/** The boot payload fields as stored on configurations and bindings; rootfsProvider and the nullable ones may be absent in older items. */
export const bootPayloadFields = {
  imageId: nullable(str),
  kernel: str,
  initrd: nullable(str),
  rootfs: nullable(str),
  kernelParameters: str,
  rootfsProvider: nullable(oneOf(['HTTP', 'ISCSI'] as const)),
};

/** A boot payload stored inside another item (a session node's target and previous boot). */
export const bootPayloadDecoder: Decoder<BootPayload> = object(bootPayloadFields);

const bindingDecoder: Decoder<Binding> = object({ ...bootPayloadFields, value: str, configId: str, site: str, priority: withDefault(int, 0) });

/** The stored BootBinding item (SK BOOTSEL); StoredItemError if it is malformed. */
export const decodeBinding = storedDecoder('BootBinding', bindingDecoder);

export async function getBindings(c: Clients, site: string, values: string[]): Promise<Map<string, Binding>> {
  const items = await batchGet(c, [...new Set(values)].map((v) => bindingKey(site, v)));
  return new Map(items.filter((i) => i !== undefined).map((i) => decodeBinding(i)).map((b) => [b.value, b]));
}

export async function resolveNode(c: Clients, facts: NodeFactsRecord, bootMac?: string | null): Promise<Resolution | null> {
  const candidates = candidateValues(facts, bootMac);
  return pickBinding(candidates, await getBindings(c, facts.site, candidates));
}
