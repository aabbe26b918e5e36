/** Site items: PK SITE#<name>, SK SITE; listed through GSI1 (GSI1PK SITES, GSI1SK <name>). */
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { ConflictError, NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { canRead } from '../shared/identity.js';
import { issuerFromEnv, type AgentCredentials } from './credentials.js';
import { validateSiteName } from './siteName.js';
import { siteKey, SITES_LIST_PK } from './registry.js';
import { siteAgents, type SiteAgent } from './agentStatus.js';
import { int, nullable, object, storedDecoder, str, withDefault, type Decoder } from '../shared/storedItem.js';

export interface Site {
  name: string;
  description: string | null;
  domain: string | null;
  createdAt: string;
  version: number;
  /** The site's current snapshot revision (functions/sites/snapshotRevision.ts); null before the first build. */
  snapshotRevision: number | null;
}

const siteDecoder: Decoder<Site> = object({ name: str, description: nullable(str), domain: nullable(str), createdAt: str, version: int, snapshotRevision: withDefault(nullable(int), null) });

/** The stored Site item (SK SITE); StoredItemError if it is malformed. */
export const toSite = storedDecoder('Site', siteDecoder);

export async function listSites(ctx: OperationContext): Promise<Site[]> {
  const out = await ctx.clients.doc.send(
    new QueryCommand({
      TableName: ctx.clients.config.tableName,
      IndexName: 'GSI1',
      KeyConditionExpression: 'GSI1PK = :p',
      ExpressionAttributeValues: { ':p': SITES_LIST_PK },
    }),
  );
  return (out.Items ?? []).map(toSite).filter((s) => canRead(ctx.identity, s.name));
}

export async function getSite(ctx: OperationContext, name: string): Promise<Site | null> {
  if (!canRead(ctx.identity, name)) return null;
  const out = await ctx.clients.doc.send(new GetCommand({ TableName: ctx.clients.config.tableName, Key: siteKey(name) }));
  return out.Item ? toSite(out.Item) : null;
}

export async function createSite(
  ctx: OperationContext,
  input: { name: string; description?: string | null; domain?: string | null },
): Promise<{ site: Site; agentCredentials: AgentCredentials }> {
  const name = validateSiteName(input.name, 'input.name');
  // The snapshot revision is written by the first build (snapshotRevision.ts), never here.
  const site: Omit<Site, 'snapshotRevision'> = { name, description: input.description ?? null, domain: input.domain ?? null, createdAt: new Date().toISOString(), version: 1 };
  try {
    await ctx.clients.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: ctx.clients.config.tableName,
              Item: { ...siteKey(name), GSI1PK: SITES_LIST_PK, GSI1SK: name, entity: 'Site', ...site },
              ConditionExpression: 'attribute_not_exists(PK)',
            },
          },
          auditPut(ctx, { operation: 'createSite', target: `site:${name}`, site: name, after: site }),
        ],
      }),
    );
  } catch (err) {
    if ((err as Error).name === 'TransactionCanceledException') throw new ConflictError(`site ${name} already exists`, 'input.name');
    throw err;
  }
  return { site: { ...site, snapshotRevision: null }, agentCredentials: await issuerFromEnv()(name) };
}

export async function rotateAgentCredentials(ctx: OperationContext, site: string): Promise<AgentCredentials> {
  if (!(await getSite(ctx, site))) throw new NotFoundError('site', site, 'site');
  return issuerFromEnv()(site);
}

/** Site.agents: what each agent of the site last reported about itself. */
export function agentsOfSite(ctx: OperationContext, source: Record<string, unknown> | undefined): Promise<SiteAgent[]> {
  const name = source?.name;
  return typeof name === 'string' ? siteAgents(ctx.clients, name) : Promise.resolve([]);
}
