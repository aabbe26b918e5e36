/**
 * Whether an upsert changes a component at all. A re-upsert of what is stored (an inventory
 * load run twice, a discovery report that found nothing new) must write nothing: no version
 * bump, no index rewrite, no audit record.
 */
import type { ComponentRecord } from './model.js';
import { canonicalJson } from '../shared/canonicalJson.js';

/** Fields that record a write rather than the component's state. */
const BOOKKEEPING = new Set<string>(['version', 'updatedAt']);

function state(r: ComponentRecord): string {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (!BOOKKEEPING.has(k)) copy[k] = v;
  return canonicalJson(copy);
}

export function sameComponent(before: ComponentRecord, after: ComponentRecord): boolean {
  return state(before) === state(after);
}
