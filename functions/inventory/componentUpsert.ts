/**
 * Bulk upsert. Thousands of components per call: existing items are read with BatchGetItem,
 * each component's change (item + claims + audit) is planned as its own step list, and those
 * lists are packed into shared transactions of up to 100 items sent with bounded concurrency.
 * A pack that fails is replayed component by component (re-reading each), so every component
 * is all-or-nothing and a bad one reports its own error without failing its neighbours.
 * A pack writes one audit record naming all its components (a replayed component writes its
 * own): item writes are what a bulk load costs, and one record per component would double them.
 * An input's site addresses that site's component (its own xname, NID, IPs and MACs): an upsert
 * never moves a component between sites (moveComponent does, explicitly).
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ConflictError, SkybootError, toErrorShape } from '../../schema/errors.js';
import type { OperationContext } from '../shared/handler.js';
import { applyChanges, readComponentInput, type ComponentInputN } from './componentInput.js';
import { componentSteps, getComponent, getComponents, type ComponentRef } from './componentStore.js';
import { mapLimit } from '../shared/concurrency.js';
import { componentJson, componentSummary, type ComponentJson, type ComponentRecord } from './model.js';
import { auditPut } from '../shared/audit.js';
import { requestedSite, unknownSitesOf } from './sites.js';
import { unknownSiteError } from '../sites/registry.js';
import { MAX_TRANSACTION_ITEMS, transact, type Step } from './transact.js';
import { list } from './validation.js';
import { componentKey, ipKey, macKey, nidKey } from './keys.js';

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
/**
 * Writes per pack. Below DynamoDB's 100: a smaller pack loses less work when one member makes
 * it fail, and measured against DynamoDB Local mid-sized packs wrote fastest.
 */
const PACK_ITEMS = 50;

interface Planned {
  index: number;
  site: string;
  before: ComponentRecord | undefined;
  input: ComponentInputN;
  steps: Step[];
  record: ComponentRecord;
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

/** Plans one component of `site` against its current record there; throws the component's own error. */
function plan(ctx: OperationContext, site: string, input: ComponentInputN, existing: ComponentRecord | undefined, operation: string, now: string, audit: boolean): { steps: Step[]; record: ComponentRecord } {
  const record = applyChanges(existing, input.xname, input.type, site, input.changes, now);
  const steps = componentSteps(ctx, existing, record, { operation, audit });
  if (steps.length + (audit ? 0 : 1) > MAX_TRANSACTION_ITEMS) {
    throw new BadUserInputError('interfaces', `component ${input.xname} needs ${steps.length} writes (interfaces, addresses and their releases); one component may need at most ${MAX_TRANSACTION_ITEMS}`);
  }
  return { steps, record };
}

/** One component in its own transaction, re-reading on a lost race. */
export async function upsertOne(ctx: OperationContext, site: string, input: ComponentInputN, operation: string): Promise<ComponentRecord> {
  let record: ComponentRecord | undefined;
  await transact(ctx, async () => {
    const p = plan(ctx, site, input, await getComponent(ctx, site, input.xname), operation, new Date().toISOString(), true);
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
    // One slot of every pack is its audit record.
    if (cur.length && size + p.steps.length + 1 > PACK_ITEMS) {
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

/** One audit record for a pack: every target, and a before/after summary of each. */
function packAudit(ctx: OperationContext, operation: string, pack: Planned[]) {
  return auditPut(ctx, {
    operation,
    target: pack.map((p) => p.input.xname).join(','),
    before: pack.map((p) => componentSummary(p.before) ?? null),
    after: pack.map((p) => componentSummary(p.record)),
  });
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
  const read: { index: number; site: string; input: ComponentInputN }[] = [];
  inputs.forEach((raw, index) => {
    const rawXname = String((raw as { xname?: unknown } | null)?.xname ?? '');
    try {
      const input = readComponentInput(raw, '');
      const site = requestedSite(ctx, (raw as { site?: unknown }).site, `input[${index}].site`);
      const ref = componentKey(site, input.xname).PK;
      if (seenXnames.has(ref)) throw new BadUserInputError('xname', `${input.xname} of site ${site} appears more than once in this request`);
      for (const k of claimKeys(site, input)) {
        const holder = claimedBy.get(k.key);
        if (holder !== undefined) throw new ConflictError(`${k.field}: ${k.what} is also given to ${holder} in this request`, k.field);
      }
      seenXnames.add(ref);
      for (const k of claimKeys(site, input)) claimedBy.set(k.key, input.xname);
      read.push({ index, site, input });
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
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
  valid.forEach((v, i) => {
    try {
      planned.push({ ...v, before: existing[i], ...plan(ctx, v.site, v.input, existing[i], operation, now, false) });
    } catch (err) {
      if (!(err instanceof SkybootError)) throw err;
      fail(v.index, v.input.xname, err);
    }
  });

  const done: { index: number; record: ComponentRecord }[] = [];
  await mapLimit(packs(planned), PACKS_IN_FLIGHT, async (pack) => {
    try {
      await ctx.clients.doc.send(new TransactWriteCommand({ TransactItems: [...pack.flatMap((p) => p.steps.map((s) => s.item)), packAudit(ctx, operation, pack)] }));
      for (const p of pack) done.push({ index: p.index, record: p.record });
    } catch {
      // Which member failed, and why, is for its own transaction to say.
      for (const p of pack) {
        try {
          done.push({ index: p.index, record: await upsertOne(ctx, p.site, p.input, operation) });
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
