/**
 * iSCSI sessions as agents see them: each report replaces that agent's set, so a logout shows
 * up as a missing item rather than a stale one. Readable per node and per image rootfs.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../shared/batchWrite.js';
import { BadUserInputError, ForbiddenError } from '../../schema/errors.js';
import { normaliseXName } from '../../schema/xname.js';
import type { OperationContext } from '../shared/handler.js';
import { canRead, siteScope } from '../shared/identity.js';
import { nodeSessionsPk, rootfsSessionsPk, sessionPk, sessionSk } from './keys.js';
import { int, nullable, object, storedDecoder, str, type Decoder } from '../shared/storedItem.js';

export interface IscsiSession {
  site: string;
  agent: string;
  targetIqn: string;
  lun: number;
  initiatorIqn: string;
  xname: string | null;
  rootfsSha256: string;
  reportedAt: string;
}

type SessionInput = Omit<IscsiSession, 'site' | 'agent' | 'reportedAt'>;

const SHA256 = /^[0-9a-f]{64}$/;
const AGENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

const iscsiSessionDecoder: Decoder<IscsiSession> = object({
  site: str,
  agent: str,
  targetIqn: str,
  lun: int,
  initiatorIqn: str,
  xname: nullable(str),
  rootfsSha256: str,
  reportedAt: str,
});

/** The stored IscsiSession item; StoredItemError if it is malformed. */
export const decodeIscsiSession = storedDecoder('IscsiSession', iscsiSessionDecoder);

export async function reportIscsiSessions(ctx: OperationContext, args: { agent: string; sessions: SessionInput[] }): Promise<number> {
  const site = siteScope(ctx.identity);
  if (!site) throw new ForbiddenError('only a site agent reports iSCSI sessions');
  if (!AGENT.test(args.agent)) throw new BadUserInputError('agent', `"${args.agent}" is not an agent name (letters, digits, '.', '_', '-')`);
  const now = new Date().toISOString();
  const fresh = args.sessions.map((s, i) => {
    if (!SHA256.test(s.rootfsSha256)) throw new BadUserInputError(`sessions[${i}].rootfsSha256`, 'expected 64 lower-case hex digits');
    if (!Number.isInteger(s.lun) || s.lun < 0 || s.lun > 16383) throw new BadUserInputError(`sessions[${i}].lun`, 'must be 0-16383');
    const xname = s.xname ? normaliseXName(s.xname, `sessions[${i}].xname`) : null;
    const sk = sessionSk(args.agent, s.targetIqn, s.lun, s.initiatorIqn);
    return {
      PK: sessionPk(site),
      SK: sk,
      GSI1PK: rootfsSessionsPk(s.rootfsSha256),
      GSI1SK: `${site}#${sk}`,
      ...(xname ? { GSI2PK: nodeSessionsPk(xname), GSI2SK: `${site}#${sk}` } : {}),
      entity: 'IscsiSession',
      site,
      agent: args.agent,
      targetIqn: s.targetIqn,
      lun: s.lun,
      initiatorIqn: s.initiatorIqn,
      xname,
      rootfsSha256: s.rootfsSha256,
      reportedAt: now,
    };
  });
  const existing = await ctx.clients.doc.send(
    new QueryCommand({
      TableName: ctx.clients.config.tableName,
      KeyConditionExpression: 'PK = :p AND begins_with(SK, :a)',
      ExpressionAttributeValues: { ':p': sessionPk(site), ':a': `${args.agent}#` },
      ProjectionExpression: 'PK, SK',
    }),
  );
  const keep = new Set(fresh.map((f) => f.SK));
  const deletes = (existing.Items ?? []).filter((i) => !keep.has(String(i.SK))).map((i) => ({ DeleteRequest: { Key: { PK: i.PK, SK: i.SK } } }));
  await batchWriteAll(ctx, [...deletes, ...fresh.map((Item) => ({ PutRequest: { Item } }))]);
  return fresh.length;
}

async function queryIndex(ctx: OperationContext, index: 'GSI1' | 'GSI2', pk: string): Promise<IscsiSession[]> {
  const out = await ctx.clients.doc.send(
    new QueryCommand({ TableName: ctx.clients.config.tableName, IndexName: index, KeyConditionExpression: `${index}PK = :p`, ExpressionAttributeValues: { ':p': pk } }),
  );
  return (out.Items ?? []).map(decodeIscsiSession).filter((s) => canRead(ctx.identity, s.site));
}

export function componentIscsiSessions(ctx: OperationContext, source: Record<string, unknown> | undefined): Promise<IscsiSession[]> {
  const xname = source?.xname;
  if (typeof xname !== 'string') return Promise.resolve([]);
  // xnames repeat across sites: the sessions of this component are those of its own site.
  return queryIndex(ctx, 'GSI2', nodeSessionsPk(xname)).then((all) => all.filter((s) => s.site === source?.site));
}

export async function imageIscsiSessions(ctx: OperationContext, source: Record<string, unknown> | undefined): Promise<IscsiSession[]> {
  const artifacts = (source?.artifacts as { type: string; sha256: string }[] | undefined) ?? [];
  const rootfs = artifacts.find((a) => a.type === 'ROOTFS_SQUASHFS');
  return rootfs ? queryIndex(ctx, 'GSI1', rootfsSessionsPk(rootfs.sha256)) : [];
}
