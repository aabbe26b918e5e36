/**
 * Boot timelines as agents report them (`boot.timeline` observations): one item per event under
 * the node, PK BOOTTL#<site>#<xname>, SK <at>#<digest>, so a redelivered batch rewrites the same
 * items and changes nothing. Items are small (detail capped at 200 characters) and expire after
 * BOOT_TIMELINE_TTL_SECONDS; `Component.bootTimeline` reads the newest `last` (at most 100).
 */
import { createHash } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BOOT_STAGES, MAX_DETAIL_LENGTH, MAX_TIMELINE_EVENTS_PER_REPORT, type BootStage, type BootTimelineEvent } from '../../schema/bootTimeline.js';
import { BadUserInputError } from '../../schema/errors.js';
import { isXName, normaliseXName } from '../../schema/xname.js';
import { batchWriteAll } from '../shared/batchWrite.js';
import { nullable, object, oneOf, storedDecoder, str } from '../shared/storedItem.js';
import type { OperationContext } from '../shared/handler.js';
import { TTL_ATTRIBUTE } from '../shared/table.js';
import { bootTimelinePk } from './keys.js';

/** A week: long enough to look back at last night's rollout, short enough to stay small. */
export const BOOT_TIMELINE_TTL_SECONDS = 7 * 24 * 3600;
export const DEFAULT_TIMELINE_EVENTS = 50;
export const MAX_TIMELINE_EVENTS = 100;

const TOKEN = /^[0-9a-f]{20}$/;

/** The SDL's BootStage enum value: `dhcp.offer` → DHCP_OFFER. */
function stageEnum(stage: BootStage): string {
  return stage.replace('.', '_').toUpperCase();
}

function validEvent(raw: unknown, path: string): BootTimelineEvent {
  const e = (raw ?? {}) as Record<string, unknown>;
  if (typeof e.xname !== 'string' || !isXName(e.xname)) throw new BadUserInputError(`${path}.xname`, `${JSON.stringify(e.xname)?.slice(0, 64)} is not an xname`);
  if (!(BOOT_STAGES as readonly unknown[]).includes(e.stage)) throw new BadUserInputError(`${path}.stage`, `${JSON.stringify(e.stage)?.slice(0, 64)} is not one of ${BOOT_STAGES.join(', ')}`);
  if (typeof e.at !== 'string' || Number.isNaN(Date.parse(e.at))) throw new BadUserInputError(`${path}.at`, `${JSON.stringify(e.at)?.slice(0, 64)} is not an ISO-8601 time`);
  if (e.detail !== undefined && typeof e.detail !== 'string') throw new BadUserInputError(`${path}.detail`, 'must be a string');
  if (e.bootToken !== undefined && !(typeof e.bootToken === 'string' && TOKEN.test(e.bootToken))) throw new BadUserInputError(`${path}.bootToken`, 'must be 20 lower-case hex characters');
  return {
    xname: normaliseXName(e.xname),
    stage: e.stage as BootStage,
    at: new Date(e.at).toISOString(),
    ...(e.detail !== undefined ? { detail: (e.detail as string).slice(0, MAX_DETAIL_LENGTH) } : {}),
    ...(e.bootToken !== undefined ? { bootToken: e.bootToken as string } : {}),
  };
}

/** Validates a `boot.timeline` payload ({ events: [...] }), naming the first bad field. */
export function parseBootTimelineReport(payload: unknown): BootTimelineEvent[] {
  const events = (payload as { events?: unknown } | null)?.events;
  if (!Array.isArray(events)) throw new BadUserInputError('payload.events', 'a boot.timeline observation carries { events: [...] }');
  if (events.length > MAX_TIMELINE_EVENTS_PER_REPORT) throw new BadUserInputError('payload.events', `at most ${MAX_TIMELINE_EVENTS_PER_REPORT} events per observation, got ${events.length}`);
  return events.map((e, i) => validEvent(e, `payload.events[${i}]`));
}

export async function storeBootTimeline(ctx: OperationContext, site: string, events: BootTimelineEvent[]): Promise<number> {
  const expires = Math.floor(Date.now() / 1000) + BOOT_TIMELINE_TTL_SECONDS;
  const puts = events.map((e) => ({
    PutRequest: {
      Item: {
        PK: bootTimelinePk(site, e.xname),
        SK: `${e.at}#${createHash('sha256').update(JSON.stringify(e)).digest('hex').slice(0, 12)}`,
        entity: 'BootTimelineEvent',
        site,
        agent: ctx.identity.subject,
        ...e,
        [TTL_ATTRIBUTE]: expires,
      },
    },
  }));
  // A batch may name one event twice (same content, same key): BatchWriteItem refuses duplicates.
  const unique = [...new Map(puts.map((p) => [`${p.PutRequest.Item.PK}|${p.PutRequest.Item.SK}`, p])).values()];
  await batchWriteAll(ctx, unique);
  return unique.length;
}

export interface BootTimelineEventView {
  stage: string;
  at: string;
  detail: string | null;
  bootToken: string | null;
  agent: string | null;
}

const timelineEventDecoder = object({ stage: oneOf(BOOT_STAGES), at: str, detail: nullable(str), bootToken: nullable(str), agent: nullable(str) });

/** The stored boot timeline event item; StoredItemError if it is malformed. */
export const decodeTimelineEvent = storedDecoder('BootTimelineEvent', timelineEventDecoder);

/** Component.bootTimeline(last): the node's newest `last` events, oldest first (newest last). */
export async function componentBootTimeline(ctx: OperationContext, args: { last?: number | null }, source: Record<string, unknown> | undefined): Promise<BootTimelineEventView[]> {
  const last = args.last ?? DEFAULT_TIMELINE_EVENTS;
  if (!Number.isInteger(last) || last < 1 || last > MAX_TIMELINE_EVENTS) throw new BadUserInputError('last', `${last} must be an integer from 1 to ${MAX_TIMELINE_EVENTS}`);
  const xname = source?.xname;
  const site = source?.site;
  if (typeof xname !== 'string' || typeof site !== 'string') return [];
  const out = await ctx.clients.doc.send(
    new QueryCommand({
      TableName: ctx.clients.config.tableName,
      KeyConditionExpression: 'PK = :p',
      ExpressionAttributeValues: { ':p': bootTimelinePk(site, xname) },
      ScanIndexForward: false,
      Limit: last,
    }),
  );
  return (out.Items ?? []).reverse().map((i) => {
    const e = decodeTimelineEvent(i);
    return { ...e, stage: stageEnum(e.stage) };
  });
}
