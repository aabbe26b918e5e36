/**
 * Bulk upsert. Thousands of components per call: existing items are read with BatchGetItem,
 * each component's change (item + claims + audit) is planned as its own step list, and those
 * lists are packed into shared transactions of up to 100 items sent with bounded concurrency.
 * A pack that fails is replayed component by component (re-reading each), so every component
 * is all-or-nothing and a bad one reports its own error without failing its neighbours.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, SkybootError, toErrorShape } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { applyChanges, readComponentInput, type ComponentInputN } from './componentInput.js';
import { componentSteps, getComponent, getComponents } from './componentStore.js';
import { mapLimit } from './concurrency.js';
import { componentJson, type ComponentJson, type ComponentRecord } from './model.js';
import { assertSiteAccess, registerSite, writeSite } from './sites.js';
import { MAX_TRANSACTION_ITEMS, transact, type Step } from './transact.js';
import { list } from './validation.js';

export interface UpsertError {
  xname: string;
  code: string;
  message: string;
}

export interface UpsertResult {
  components: ComponentJson[];
  errors: UpsertError[];
}

const MAX_INPUT = 20_000;
const PACKS_IN_FLIGHT = 16;

interface Planned {
  index: number;
  input: ComponentInputN;
  steps: Step[];
  record: ComponentRecord;
}

/** Claims two inputs of one request both want: the later one is refused up front. */
function claimKeys(input: ComponentInputN): { key: string; field: string; what: string }[] {
  const c = input.changes;
  const out: { key: string; field: string; what: string }[] = [];
  (c.interfaces ?? []).forEach((i, j) => {
    out.push({ key: `MAC#${i.mac}`, field: `interfaces[${j}].mac`, what: `MAC ${i.mac}` });
    for (const ip of i.ipAddresses) out.push({ key: `IP#${i.network}#${ip}`, field: `interfaces[${j}].ipAddresses`, what: `IP ${ip} in network ${i.network}` });
  });
  if (typeof c.nid === 'number') out.push({ key: `NID#${c.nid}`, field: 'nid', what: `nid ${c.nid}` });
  return out;
}

/** Plans one component against its current record; throws the component's own error. */
function plan(ctx: OperationContext, input: ComponentInputN, existing: ComponentRecord | undefined, operation: string, now: string): { steps: Step[]; record: ComponentRecord } {
  if (existing) assertSiteAccess(ctx, existing.site, `component ${input.xname}`);
  const site = existing && input.changes.site === undefined ? existing.site : writeSite(ctx, input.changes.site, 'site');
  const record = applyChanges(existing, input.xname, input.type, site, { ...input.changes, site }, now);
  const steps = componentSteps(ctx, existing, record, { operation });
  if (steps.length > MAX_TRANSACTION_ITEMS) {
    throw new BadUserInputError('interfaces', `component ${input.xname} needs ${steps.length} writes (interfaces, addresses and their releases); one component may need at most ${MAX_TRANSACTION_ITEMS}`);
  }
  return { steps, record };
}

/** One component in its own transaction, re-reading on a lost race. */
export async function upsertOne(ctx: OperationContext, input: ComponentInputN, operation: string): Promise<ComponentRecord> {
  let record: ComponentRecord | undefined;
  await transact(ctx, async () => {
    const p = plan(ctx, input, await getComponent(ctx, input.xname), operation, new Date().toISOString());
    record = p.record;
    return p.steps;
  });
  return record!;
}

function packs(planned: Planned[]): Planned[][] {
  const out: Planned[][] = [];
  let cur: Planned[] = [];
  let size = 0;
  for (const p of planned) {
    if (cur.length && size + p.steps.length > MAX_TRANSACTION_ITEMS) {
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

export async function upsertComponents(ctx: OperationContext, rawInputs: unknown, operation = 'upsertComponents'): Promise<UpsertResult> {
  const inputs = list(rawInputs, 'input');
  if (inputs.length > MAX_INPUT) throw new BadUserInputError('input', `has ${inputs.length} components; at most ${MAX_INPUT} per call`);
  const errors: { index: number; error: UpsertError }[] = [];
  const fail = (index: number, xname: string, err: unknown) => {
    const shape = toErrorShape(err);
    errors.push({ index, error: { xname, code: shape.code, message: shape.message } });
  };

  const seenXnames = new Set<string>();
  const claimedBy = new Map<string, string>();
  const valid: { index: number; input: ComponentInputN }[] = [];
  inputs.forEach((raw, index) => {
    const rawXname = String((raw as { xname?: unknown } | null)?.xname ?? '');
    try {
      const input = readComponentInput(raw, '');
      if (seenXnames.has(input.xname)) throw new BadUserInputError('xname', `${input.xname} appears more than once in this request`);
      for (const k of claimKeys(input)) {
        const holder = claimedBy.get(k.key);
        if (holder !== undefined) throw new ConflictError(`${k.field}: ${k.what} is also given to ${holder} in this request`, k.field);
      }
      seenXnames.add(input.xname);
      for (const k of claimKeys(input)) claimedBy.set(k.key, input.xname);
      valid.push({ index, input });
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      fail(index, rawXname, err);
    }
  });

  const existing = await getComponents(ctx, valid.map((v) => v.input.xname));
  const now = new Date().toISOString();
  const planned: Planned[] = [];
  valid.forEach((v, i) => {
    try {
      planned.push({ ...v, ...plan(ctx, v.input, existing[i], operation, now) });
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      fail(v.index, v.input.xname, err);
    }
  });

  const sites = [...new Set(planned.map((p) => p.record.site))];
  for (const s of sites) await registerSite(ctx, s);

  const done: { index: number; record: ComponentRecord }[] = [];
  await mapLimit(packs(planned), PACKS_IN_FLIGHT, async (pack) => {
    try {
      await ctx.clients.doc.send(new TransactWriteCommand({ TransactItems: pack.flatMap((p) => p.steps.map((s) => s.item)) }));
      for (const p of pack) done.push({ index: p.index, record: p.record });
    } catch {
      // Which member failed, and why, is for its own transaction to say.
      for (const p of pack) {
        try {
          done.push({ index: p.index, record: await upsertOne(ctx, p.input, operation) });
        } catch (err) {
          if (!(err instanceof SkybootError)) throw err;
          fail(p.index, p.input.xname, err);
        }
      }
    }
  });

  return {
    components: done.sort((a, b) => a.index - b.index).map((d) => componentJson(d.record)),
    errors: errors.sort((a, b) => a.index - b.index).map((e) => e.error),
  };
}
