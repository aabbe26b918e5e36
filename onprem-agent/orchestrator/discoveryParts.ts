/**
 * A discovery report small enough for the outbox: a walk of a large site (about 2.6 KB per node
 * with hardware) is cut into parts of at most DISCOVERY_PART_BYTES, endpoints first, then
 * components, each part a report of its own. A report that fits keeps its key, so a rerun
 * with the same findings is still answered DUPLICATE; the parts of a split report are keyed
 * `<key>.p<i>of<n>`, which is as stable as the key (the same findings cut the same way), and the
 * cloud applies each part once (functions/inventory/discoveryReport.ts: parts do not depend on
 * each other).
 */
import { createHash } from 'node:crypto';

/** Well under one outbox batch, and a part's upserts stay a modest share of a Lambda call. */
export const DISCOVERY_PART_BYTES = 512 * 1024;
/** The cloud takes at most 5,000 endpoints and components per report. */
export const DISCOVERY_PART_ITEMS = 2000;

export interface DiscoveryPayload {
  idempotencyKey?: string;
  endpoints?: unknown[];
  components?: unknown[];
}

export interface DiscoveryPart {
  idempotencyKey: string;
  payload: DiscoveryPayload & { idempotencyKey: string };
}

export class DiscoveryItemTooLargeError extends Error {}

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

function partKey(key: string, i: number, n: number): string {
  const suffix = `.p${i + 1}of${n}`;
  // Keys are at most 128 characters; a long base key is shortened to a digest of itself.
  const base = key.length + suffix.length <= 128 ? key : `d-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
  return base + suffix;
}

export function splitDiscoveryReport(key: string, payload: DiscoveryPayload, maxBytes = DISCOVERY_PART_BYTES, maxItems = DISCOVERY_PART_ITEMS): DiscoveryPart[] {
  const endpoints = payload.endpoints ?? [];
  const components = payload.components ?? [];
  if (bytes({ ...payload, idempotencyKey: key }) <= maxBytes && endpoints.length + components.length <= maxItems) {
    return [{ idempotencyKey: key, payload: { ...payload, idempotencyKey: key } }];
  }
  // Room for the part's own key and the list brackets.
  const room = maxBytes - 256;
  const parts: { endpoints: unknown[]; components: unknown[] }[] = [];
  let cur = { endpoints: [] as unknown[], components: [] as unknown[] };
  let size = 0;
  const add = (list: 'endpoints' | 'components', item: unknown, i: number) => {
    const n = bytes(item) + 1;
    if (n > room) throw new DiscoveryItemTooLargeError(`discovery report ${key}: ${list}[${i}] alone is ${n} bytes, more than a part may carry (${room} bytes)`);
    if (size + n > room || cur.endpoints.length + cur.components.length >= maxItems) {
      parts.push(cur);
      cur = { endpoints: [], components: [] };
      size = 0;
    }
    cur[list].push(item);
    size += n;
  };
  endpoints.forEach((e, i) => add('endpoints', e, i));
  components.forEach((c, i) => add('components', c, i));
  if (cur.endpoints.length + cur.components.length) parts.push(cur);
  return parts.map((p, i) => {
    const k = partKey(key, i, parts.length);
    return { idempotencyKey: k, payload: { idempotencyKey: k, endpoints: p.endpoints, components: p.components } };
  });
}
