/**
 * reportObservations: what an agent's outbox delivers (boot events, heartbeats, cloud-init
 * phone-home, discovery reports). Each observation is applied once per (site, idempotencyKey)
 * through functions/shared/idempotency.ts: a batch redelivered after an outage or a lost
 * acknowledgement is DUPLICATE and changes nothing, a concurrent redelivery waits for the first,
 * and the same key with other content is REJECTED (a new observation needs a new key).
 * Discovery reports are handed to the inventory domain's reportDiscovery, which is idempotent
 * under the same key by the same mechanism: the report is applied once even if this function
 * dies between the two and the agent sends the batch again. `agent.portals` replaces the
 * reporting agent's advertised iSCSI portals (functions/sites/agentPortals.ts). `boot.timeline`
 * batches go to the nodes' boot timelines (functions/orchestration/bootTimeline.ts).
 * `agent.status` replaces the agent's newest status (functions/sites/agentStatus.ts, Site.agents).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ForbiddenError, toErrorShape } from '../../schema/errors.js';
import { idempotent, IdempotencyKeyReusedError } from '../shared/idempotency.js';
import type { OperationContext } from '../shared/handler.js';
import { reportDiscovery } from '../inventory/discoveryReport.js';
import { reportIscsiSessions } from '../orchestration/iscsiSessions.js';
import { parseBootTimelineReport, storeBootTimeline } from '../orchestration/bootTimeline.js';
import { BOOT_TIMELINE_KIND } from '../../schema/bootTimeline.js';
import { TTL_ATTRIBUTE } from '../shared/table.js';
import { AGENT_PORTALS_KIND, applyAgentPortals, parseAgentPortals } from './agentPortals.js';
import { AGENT_STATUS_KIND, applyAgentStatus, parseAgentStatus } from './agentStatus.js';

export interface ObservationInput {
  idempotencyKey: string;
  kind: string;
  at?: string | null;
  payload: unknown;
}

export interface ObservationResult {
  idempotencyKey: string;
  outcome: 'STORED' | 'DUPLICATE' | 'REJECTED';
  error: string | null;
}

export const OBSERVATION_KINDS = ['boot.event', 'heartbeat', 'cloudinit.phoneHome', 'inventory.reportDiscovery', 'iscsi.sessions', 'agent.portals', BOOT_TIMELINE_KIND, AGENT_STATUS_KIND] as const;
export const MAX_OBSERVATIONS_PER_BATCH = 100;
const MAX_PAYLOAD_BYTES = 64 * 1024;
/** Longer than any outbox retry window; DynamoDB TTL removes them afterwards. */
const OBSERVATION_TTL_SECONDS = 30 * 24 * 3600;
const KEY = /^[\w.:-]{1,128}$/;

export const observationKey = (site: string, key: string) => ({ PK: `OBS#${site}#${key}`, SK: 'OBS' });
/** GSI1: a site's observations in time order. */
export const siteObservationsPk = (site: string) => `SITE#${site}#OBS`;

function validate(o: ObservationInput, i: number): void {
  if (!KEY.test(o.idempotencyKey ?? '')) throw new BadUserInputError(`batch[${i}].idempotencyKey`, 'must be 1-128 of letters, digits, _ . : -');
  if (!(OBSERVATION_KINDS as readonly string[]).includes(o.kind)) throw new BadUserInputError(`batch[${i}].kind`, `"${o.kind}" is not one of ${OBSERVATION_KINDS.join(', ')}`);
  if (o.kind !== 'inventory.reportDiscovery' && JSON.stringify(o.payload ?? null).length > MAX_PAYLOAD_BYTES) {
    throw new BadUserInputError(`batch[${i}].payload`, `is larger than ${MAX_PAYLOAD_BYTES} bytes`);
  }
}

/**
 * The content a key promises is the kind and payload; `at` is when the agent noted it, and two
 * deliveries of one observation may stamp it differently (the outbox's copy and a direct send).
 */
async function storeOne(ctx: OperationContext, site: string, o: ObservationInput): Promise<ObservationResult['outcome']> {
  const run = await idempotent(
    ctx.clients,
    { scope: `observation#${site}`, key: o.idempotencyKey, payload: { kind: o.kind, payload: o.payload ?? null }, expiresAfterSeconds: OBSERVATION_TTL_SECONDS },
    () => applyOne(ctx, site, o),
  );
  return run.replayed ? 'DUPLICATE' : run.result;
}

async function applyOne(ctx: OperationContext, site: string, o: ObservationInput): Promise<'STORED'> {
  const TableName = ctx.clients.config.tableName;
  const Key = observationKey(site, o.idempotencyKey);
  let stored: unknown = o.payload;
  if (o.kind === 'inventory.reportDiscovery') {
    const payload = (o.payload ?? {}) as Record<string, unknown>;
    const result = await reportDiscovery(ctx, { input: { ...payload, idempotencyKey: o.idempotencyKey } });
    // The report itself lives in the inventory; the observation keeps only its outcome.
    stored = { result };
  } else if (o.kind === 'iscsi.sessions') {
    // The payload is reportIscsiSessions' arguments: the agent's whole current set of sessions.
    const payload = (o.payload ?? {}) as Parameters<typeof reportIscsiSessions>[1];
    if (typeof payload.agent !== 'string' || !Array.isArray(payload.sessions)) {
      throw new BadUserInputError('payload', 'an iscsi.sessions observation carries { agent, sessions[] }');
    }
    stored = { agent: payload.agent, sessions: await reportIscsiSessions(ctx, payload) };
  } else if (o.kind === BOOT_TIMELINE_KIND) {
    // The events live under their nodes (Component.bootTimeline); the observation keeps the count.
    stored = { events: await storeBootTimeline(ctx, site, parseBootTimelineReport(o.payload)) };
  }
  const receivedAt = new Date().toISOString();
  const at = o.at ?? receivedAt;
  if (o.kind === AGENT_PORTALS_KIND) {
    const portals = parseAgentPortals(o.payload);
    stored = { ...portals, applied: await applyAgentPortals(ctx.clients, site, portals, at) };
  } else if (o.kind === AGENT_STATUS_KIND) {
    // The report lives on the agent's status item (Site.agents); the observation keeps who and whether it applied.
    const status = parseAgentStatus(o.payload);
    stored = { agent: status.agent, applied: await applyAgentStatus(ctx.clients, site, status, ctx.identity.subject, at, receivedAt) };
  }
  await ctx.clients.doc.send(
      new PutCommand({
        TableName,
        Item: {
          ...Key,
          GSI1PK: siteObservationsPk(site),
          GSI1SK: `${at}#${o.idempotencyKey}`,
          entity: 'Observation',
          site,
          kind: o.kind,
          idempotencyKey: o.idempotencyKey,
          at,
          receivedAt,
          agent: ctx.identity.subject,
          payload: stored,
          [TTL_ATTRIBUTE]: Math.floor(Date.now() / 1000) + OBSERVATION_TTL_SECONDS,
        },
      }),
    );
  return 'STORED';
}

export async function reportObservations(args: { batch: ObservationInput[] }, ctx: OperationContext): Promise<ObservationResult[]> {
  const site = ctx.identity.site;
  if (!site) throw new ForbiddenError('reportObservations is for site agents (the token names no site)');
  if (args.batch.length > MAX_OBSERVATIONS_PER_BATCH) throw new BadUserInputError('batch', `at most ${MAX_OBSERVATIONS_PER_BATCH} observations per call`);
  const out: ObservationResult[] = [];
  // In order, one at a time: a batch is small, and order keeps a node's events in sequence.
  for (const [i, o] of args.batch.entries()) {
    try {
      validate(o, i);
      out.push({ idempotencyKey: o.idempotencyKey, outcome: await storeOne(ctx, site, o), error: null });
    } catch (err) {
      const shape = toErrorShape(err);
      // Only a refusal of the input is final (a reused key is one); anything else fails the
      // call so the agent retries.
      if (shape.code !== 'BAD_USER_INPUT' && !(err instanceof IdempotencyKeyReusedError)) throw err;
      out.push({ idempotencyKey: String(o.idempotencyKey), outcome: 'REJECTED', error: shape.message });
    }
  }
  return out;
}
