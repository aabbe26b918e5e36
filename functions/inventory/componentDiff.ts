/**
 * Whether an upsert changes a component at all. A re-upsert of what is stored (an inventory
 * load run twice, a discovery report that found nothing new) must write nothing: no version
 * bump, no index rewrite, no audit record.
 */
import type { ComponentRecord } from './model.js';

/** Fields that record a write rather than the component's state. */
const BOOKKEEPING = new Set<string>(['version', 'updatedAt']);

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) out[k] = canonical(v);
    }
    return out;
  }
  return value;
}

function state(r: ComponentRecord): string {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!BOOKKEEPING.has(k)) copy[k] = v;
  return JSON.stringify(canonical(copy));
}

export function sameComponent(before: ComponentRecord, after: ComponentRecord): boolean {
  return state(before) === state(after);
}
