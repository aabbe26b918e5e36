/**
 * The one site registry, as other domains ask it: does a site exist, which sites exist. A site
 * is its SITE#<name> item (sites.ts); the deployment's default site (SKYBOOT_DEFAULT_SITE) counts
 * as known without one, so a deployment whose inputs name no site works before any
 * `skyboot site create`. Sites are never deleted, so a process remembers the names it has seen.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError } from '../../schema/errors.js';
import type { Clients } from '../shared/clients.js';
import { batchGet } from '../shared/batchGet.js';
import { validateSiteName } from './siteName.js';

export const siteKey = (name: string) => ({ PK: `SITE#${name}`, SK: 'SITE' });
export const SITES_LIST_PK = 'SITES';

const seen = new Map<string, Set<string>>();

function seenIn(c: Clients): Set<string> {
  let s = seen.get(c.config.tableName);
  if (!s) {
    s = new Set([c.config.defaultSite]);
    seen.set(c.config.tableName, s);
  }
  return s;
}

/** The names among `names` that are no site of this deployment (one BatchGet for the unseen). */
export async function unknownSites(c: Clients, names: string[]): Promise<string[]> {
  const known = seenIn(c);
  const ask = [...new Set(names)].filter((n) => !known.has(n));
  if (!ask.length) return [];
  const items = await batchGet(c, ask.map(siteKey), true);
  items.forEach((item, i) => {
    if (item) known.add(ask[i]!);
  });
  return ask.filter((n) => !known.has(n));
}

/** What every domain answers for an input naming a site the registry does not hold. */
export function unknownSiteError(field: string, site: string): BadUserInputError {
  return new BadUserInputError(field, `site "${site}" does not exist (sites are created with createSite / skyboot site create)`);
}

/** Every site, sorted: the registered ones and the default site. */
export async function siteNames(c: Clients): Promise<string[]> {
  const names = new Set<string>([c.config.defaultSite]);
  let start: Record<string, unknown> | undefined;
  do {
    const page = await c.doc.send(
      new QueryCommand({ TableName: c.config.tableName, IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :p', ExpressionAttributeValues: { ':p': SITES_LIST_PK }, ExclusiveStartKey: start }),
    );
    for (const i of page.Items ?? []) names.add(String(i.name));
    start = page.LastEvaluatedKey;
  } while (start);
  for (const n of names) seenIn(c).add(n);
  return [...names].sort();
}

/**
 * Registers a site that already holds data but has no site item (the key migration adopts the
 * sites inventory kept in its own registry before). Idempotent; agent credentials are issued
 * later with rotateAgentCredentials. Returns true when it created the item.
 */
export async function adoptSite(c: Clients, name: string, description: string): Promise<boolean> {
  validateSiteName(name, 'site');
  try {
    await c.doc.send(
      new PutCommand({
        TableName: c.config.tableName,
        Item: { ...siteKey(name), GSI1PK: SITES_LIST_PK, GSI1SK: name, entity: 'Site', name, description, domain: null, createdAt: new Date().toISOString(), version: 1 },
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    seenIn(c).add(name);
    return true;
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConditionalCheckFailedException') throw err;
    seenIn(c).add(name);
    return false;
  }
}
