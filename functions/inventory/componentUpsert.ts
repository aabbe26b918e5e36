/**
 * Bulk upsert. Thousands of components per call: existing items are read with BatchGetItem,
 * each component's change (item + claims + audit) is planned as its own step list, and those
 * lists are packed into shared transactions of up to 100 items sent with bounded concurrency.
 * A pack that fails is replayed component by component (re-reading each), so every component
 * is all-or-nothing and a bad one reports its own error without failing its neighbours.
 * Every written component gets its own audit record (full before/after) inside its pack's
 * transaction, so a pack stays within DynamoDB's 100 items and the trail is per target; audit
 * writes cost what the records weigh (1 WCU per KB), as one pack-wide record of the same
 * content would.
 * A component the input leaves as stored is not written at all (no version bump, no audit).
 * An input's site addresses that site's component (its own xname, NID, IPs and MACs): an upsert
 * never moves a component between sites (moveComponent does, explicitly).
 *
 * The answer grows with the input only as far as Lambda's 6 MB response allows: counts, the
 * errors (each naming its input index and path) up to a byte budget, and the components
 * themselves only when the selection asks for them and the input is small enough.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, ForbiddenError, SkybootError, toErrorShape } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { applyChanges, readComponentInput, type ComponentInputN } from './componentInput.js';
import { componentSteps, getComponent, getComponents, type ComponentRef } from './componentStore.js';
import { mapLimit } from '../shared/concurrency.js';
import { componentJson, type ComponentJson, type ComponentRecord } from './model.js';
import { requestedSite, unknownSitesOf } from './sites.js';
import { unknownSiteError } from '../sites/registry.js';
import { MAX_ATTEMPTS, MAX_TRANSACTION_ITEMS, backoff, isTransientWriteError, transact, type Step } from '../shared/transact.js';
import { list } from './validation.js';
import { sameComponent } from './componentDiff.js';
import { componentKey, ipKey, macKey, nidKey } from './keys.js';

export interface UpsertError {
  /** The position of the input element, so a caller can map it back to its row. */
  index: number;
  /** Where in the request: `input[3].interfaces[0].mac`. */
  path: string;
  xname: string;
  code: string;
  message: string;
}

export interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: UpsertError[];
  /** Errors counted in `failed` but not listed, once the listed ones reach ERROR_BYTES (4.5 MiB). */
  errorsOmitted: number;
  /** Only when asked for (the selection names `components`), in input order. */
  components?: ComponentJson[];
}

export type UpsertOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Components per call: what one call writes inside the inventory function's 25 s (Lambda's
 * timeout, enforced locally by the in-process invoker). bench/scale measured 5,000 in 8.3 s on
 * DynamoDB Local under load; 20,000 ran past 25 s there. Larger loads are several calls
 * (`skyboot component import` sends batches of 1,000).
 */
export const MAX_INPUT = 5_000;
/**
 * Inputs up to which `components` may be selected: at about 450 bytes a component, 1,000
 * stay far inside Lambda's 6 MB response. Larger loads read the counts and errors, and read
 * components back with components(filter:).
 */
export const MAX_RETURNED_COMPONENTS = 1_000;
/** Budget of the listed errors (JSON bytes): with the rest of the answer, far below 6 MB. */
const ERROR_BYTES = 4.5 * 1024 * 1024;
/** An error echoes the caller's value; cap it so one error cannot take the whole budget. */
const MAX_MESSAGE = 300;
/**
 * Transactions of a call in flight at once. DynamoDB serialises transactions that touch the
 * same items and throttles a hot partition; DynamoDB Local serialises all of them behind one
 * lock, and 16 at once timed out there under load. bench/scale times a 5,000-item call against
 * API Gateway's 29 s with this setting.
 */
const PACKS_IN_FLIGHT = 4;
/**
 * Writes per pack, audit records included: DynamoDB's 100-item transaction limit. A pack that
 * fails is replayed member by member, so its size bounds the work a bad member costs.
 */
const PACK_ITEMS = 100;

interface Planned {
  index: number;
  site: string;
  before: ComponentRecord | undefined;
  input: ComponentInputN;
  steps: Step[];
  record: ComponentRecord;
  outcome: UpsertOutcome;
}

/** Claims two inputs of one request both want: the later one is refused up front. */
function claimKeys(site: string, input: ComponentInputN): { key: string; field: string; what: string }[] {
  const c = input.changes;
  const out: { key: string; field: string; what: string }[] = [];
  (c.interfaces ?? []).forEach((i, j) => {
    out.push({ key: macKey(site, i.mac).PK, field: `interfaces[${j}].mac`, what: `MAC ${i.mac}` });
    for (const ip of i.ipAddresses) out.push({ key: ipKey(site, i.network, ip).PK, field: `interfaces[${j}].ipAddresses`, what: `IP ${ip} in network ${i.network}` });
  });
  if (typeof c.nid === 'number') out.push({ key: nidKey(site, c.nid).PK, field: 'nid', what: `nid ${c.nid}` });
  return out;
}

/**
 * Plans one component of `site` against its current record there; throws the component's own
 * error. An input that changes nothing plans no steps and keeps the stored record.
 */
function plan(ctx: OperationContext, site: string, input: ComponentInputN, existing: ComponentRecord | undefined, operation: string, now: string, audit: boolean): { steps: Step[]; record: ComponentRecord; outcome: UpsertOutcome } {
  const record = applyChanges(existing, input.xname, input.type, site, input.changes, now);
  if (existing && sameComponent(existing, record)) return { steps: [], record: existing, outcome: 'unchanged' };
  const steps = componentSteps(ctx, existing, record, { operation, audit });
  if (steps.length + (audit ? 0 : 1) > MAX_TRANSACTION_ITEMS) {
    throw new BadUserInputError('interfaces', `component ${input.xname} needs ${steps.length} writes (interfaces, addresses and their releases); one component may need at most ${MAX_TRANSACTION_ITEMS}`);
  }
  return { steps, record, outcome: existing ? 'updated' : 'created' };
}

/** One component in its own transaction, re-reading on a lost race. */
export async function upsertOne(ctx: OperationContext, site: string, input: ComponentInputN, operation: string): Promise<{ record: ComponentRecord; outcome: UpsertOutcome }> {
  let planned: { record: ComponentRecord; outcome: UpsertOutcome } | undefined;
  await transact(ctx, async () => {
    const p = plan(ctx, site, input, await getComponent(ctx, site, input.xname), operation, new Date().toISOString(), true);
    planned = p;
    return p.steps;
  });
  return planned!;
}

function packs(planned: Planned[]): Planned[][] {
  const out: Planned[][] = [];
  let cur: Planned[] = [];
  let size = 0;
  for (const p of planned) {
    if (cur.length && size + p.steps.length > PACK_ITEMS) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(p);
    size += p.steps.length;
  }
  if (cur.length) out.push(cur);
  return out;
}

export interface UpsertOptions {
  operation?: string;
  /** Return the components (the caller's selection asked for them); bounded by MAX_RETURNED_COMPONENTS. */
  components?: boolean;
}

/** The answer plus every component now stored as the input says (for callers inside the domain). */
export interface UpsertWork {
  result: UpsertResult;
  stored: ComponentRecord[];
}

export async function upsertComponents(ctx: OperationContext, rawInputs: unknown, opts: UpsertOptions = {}): Promise<UpsertResult> {
  return (await upsertComponentRecords(ctx, rawInputs, opts)).result;
}

/** The path an error names: the input element, then the field inside it. */
function errorPath(index: number, field: string | undefined): string {
  const element = `input[${index}]`;
  if (!field) return element;
  return field.startsWith(element) ? field : `${element}.${field}`;
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

export async function upsertComponentRecords(ctx: OperationContext, rawInputs: unknown, opts: UpsertOptions = {}): Promise<UpsertWork> {
  const operation = opts.operation ?? 'upsertComponents';
  const inputs = list(rawInputs, 'input');
  if (inputs.length > MAX_INPUT) throw new BadUserInputError('input', `has ${inputs.length} components; at most ${MAX_INPUT} per call`);
  if (opts.components && inputs.length > MAX_RETURNED_COMPONENTS) {
    throw new BadUserInputError(
      'input',
      `has ${inputs.length} components; \`components\` may be selected for at most ${MAX_RETURNED_COMPONENTS} per call (the answer must stay under Lambda's 6 MB): select the counts and errors, and read components with components(filter:)`,
    );
  }
  const errors: { index: number; error: UpsertError }[] = [];
  const fail = (index: number, xname: string, err: unknown) => {
    const shape = toErrorShape(err);
    errors.push({ index, error: { index, path: errorPath(index, shape.field), xname: clip(xname, 64), code: shape.code, message: clip(shape.message, MAX_MESSAGE) } });
  };

  const seenXnames = new Set<string>();
  const claimedBy = new Map<string, string>();
  const read: { index: number; site: string; input: ComponentInputN }[] = [];
  inputs.forEach((raw, index) => {
    const rawXname = String((raw as { xname?: unknown } | null)?.xname ?? '');
    const prefix = `input[${index}].`;
    try {
      const input = readComponentInput(raw, prefix);
      const site = requestedSite(ctx, (raw as { site?: unknown }).site, `${prefix}site`);
      const ref = componentKey(site, input.xname).PK;
      if (seenXnames.has(ref)) throw new BadUserInputError(`${prefix}xname`, `${input.xname} of site ${site} appears more than once in this request`);
      for (const k of claimKeys(site, input)) {
        const holder = claimedBy.get(k.key);
        if (holder !== undefined) throw new ConflictError(`${prefix}${k.field}: ${k.what} is also given to ${holder} in this request`, `${prefix}${k.field}`);
      }
      seenXnames.add(ref);
      for (const k of claimKeys(site, input)) claimedBy.set(k.key, input.xname);
      read.push({ index, site, input });
    } catch (err) {
      // A site the caller may not write refuses the whole call: FORBIDDEN is no per-item outcome.
      if (!(err instanceof SkybootError) || err instanceof ForbiddenError) throw err;
      fail(index, rawXname, err);
    }
  });

  // One registry lookup for the request's sites; an input naming an unknown one is its own error.
  const unknown = await unknownSitesOf(ctx, [...new Set(read.map((r) => r.site))]);
  const valid = read.filter((r) => {
    if (unknown.has(r.site)) fail(r.index, r.input.xname, unknownSiteError(`input[${r.index}].site`, r.site));
    return !unknown.has(r.site);
  });

  const existing = await getComponents(ctx, valid.map((v): ComponentRef => ({ site: v.site, xname: v.input.xname })));
  const now = new Date().toISOString();
  const planned: Planned[] = [];
  const done: { index: number; record: ComponentRecord; outcome: UpsertOutcome }[] = [];
  valid.forEach((v, i) => {
    try {
      const p: Planned = { ...v, before: existing[i], ...plan(ctx, v.site, v.input, existing[i], operation, now, true) };
      if (p.outcome === 'unchanged') done.push({ index: p.index, record: p.record, outcome: p.outcome });
      else planned.push(p);
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      fail(v.index, v.input.xname, err);
    }
  });

  await mapLimit(packs(planned), PACKS_IN_FLIGHT, async (pack) => {
    try {
      const TransactItems = pack.flatMap((p) => p.steps.map((s) => s.item));
      for (let attempt = 0; ; attempt++) {
        try {
          await ctx.clients.doc.send(new TransactWriteCommand({ TransactItems }));
          break;
        } catch (err) {
          // Throttled or an internal error: the same pack again, later (its steps are still valid).
          if (!isTransientWriteError(err) || attempt + 1 >= MAX_ATTEMPTS) throw err;
          await backoff(attempt);
        }
      }
      for (const p of pack) done.push({ index: p.index, record: p.record, outcome: p.outcome });
    } catch {
      // Which member failed, and why, is for its own transaction to say.
      for (const p of pack) {
        try {
          done.push({ index: p.index, ...(await upsertOne(ctx, p.site, p.input, operation)) });
        } catch (err) {
          if (!(err instanceof SkybootError)) throw err;
          fail(p.index, p.input.xname, err);
        }
      }
    }
  });

  done.sort((a, b) => a.index - b.index);
  errors.sort((a, b) => a.index - b.index);
  const listed: UpsertError[] = [];
  let budget = ERROR_BYTES;
  for (const e of errors) {
    budget -= Buffer.byteLength(JSON.stringify(e.error));
    if (budget < 0) break;
    listed.push(e.error);
  }
  const count = (o: UpsertOutcome) => done.filter((d) => d.outcome === o).length;
  const result: UpsertResult = {
    created: count('created'),
    updated: count('updated'),
    unchanged: count('unchanged'),
    failed: errors.length,
    errors: listed,
    errorsOmitted: errors.length - listed.length,
    ...(opts.components ? { components: done.map((d) => componentJson(d.record)) } : {}),
  };
  return { result, stored: done.map((d) => d.record) };
}
