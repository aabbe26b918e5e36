/**
 * The inventory's read operations for other domains (boot resolution, power requests, the site
 * snapshot): components and BMCs addressed by site, so no other domain spells an inventory key.
 * Plain reads: the caller has already decided what its caller may see.
 */
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { batchGet } from '../shared/batchGet.js';
import { queryAll } from '../shared/pagination.js';
import { componentKey, groupKey, macKey, memberSk, nidKey, siteComponentsPk, siteEndpointsPk } from './keys.js';
import { componentFromItem, type ComponentRecord } from './model.js';

export type { ComponentRecord } from './model.js';

export async function componentRecord(c: Clients, site: string, xname: string): Promise<ComponentRecord | null> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: componentKey(site, xname) }));
  return out.Item ? componentFromItem(out.Item) : null;
}

/** The component of `site` owning the MAC, or null when the site's inventory does not list it. */
export async function componentRecordByMac(c: Clients, site: string, mac: string): Promise<ComponentRecord | null> {
  const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: macKey(site, mac) }));
  return out.Item?.xname ? componentRecord(c, site, String(out.Item.xname)) : null;
}

function gsi1Items(c: Clients, pk: string): Promise<Record<string, unknown>[]> {
  return queryAll(c, { IndexName: 'GSI1', KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': pk } });
}

/** Every component of a site, sorted by xname. */
export async function siteComponentRecords(c: Clients, site: string): Promise<ComponentRecord[]> {
  return (await gsi1Items(c, siteComponentsPk(site))).map(componentFromItem).sort((a, b) => (a.xname < b.xname ? -1 : a.xname > b.xname ? 1 : 0));
}

/** A site's Redfish endpoints (BMC xname and address), sorted by xname. */
export async function siteRedfishEndpointAddresses(c: Clients, site: string): Promise<{ xname: string; address: string }[]> {
  return (await gsi1Items(c, siteEndpointsPk(site))).map((i) => ({ xname: String(i.xname), address: String(i.address) })).sort((a, b) => (a.xname < b.xname ? -1 : 1));
}

/** The labels among `labels` that name no group. */
export async function unknownGroups(c: Clients, labels: string[]): Promise<string[]> {
  const unique = [...new Set(labels)];
  const items = await batchGet(c, unique.map(groupKey));
  return unique.filter((_, i) => !items[i]);
}

export interface NodeTargets {
  xnames: string[];
  macs: string[];
  nids: number[];
  groups: string[];
}

/** A group's labels split by why it matches no node of a site: no such group, or none of its members are there. */
export interface UnmatchedNodeTargets extends Omit<NodeTargets, 'groups'> {
  unknownGroups: string[];
  emptyGroups: string[];
}

/**
 * Which of the given targets no component of `site` holds: xnames, MACs and NIDs by their items
 * and claims (one BatchGet), groups by whether they exist and have one member in the site (a
 * one-item Query each): never a scan, whatever the inventory's size.
 */
export async function unmatchedNodeTargets(c: Clients, site: string, t: NodeTargets): Promise<UnmatchedNodeTargets> {
  const keys = [...t.xnames.map((x) => componentKey(site, x)), ...t.macs.map((m) => macKey(site, m)), ...t.nids.map((n) => nidKey(site, n))];
  const found = await batchGet(c, keys);
  const missing = <T>(values: T[], offset: number) => values.filter((_, i) => !found[offset + i]);
  const unknown = await unknownGroups(c, t.groups);
  const emptyGroups: string[] = [];
  for (const label of t.groups.filter((g) => !unknown.includes(g))) {
    const out = await c.doc.send(
      new QueryCommand({
        TableName: c.config.tableName,
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :member)',
        ExpressionAttributeValues: { ':pk': groupKey(label).PK, ':member': memberSk(site, '') },
        Limit: 1,
      }),
    );
    if (!out.Items?.length) emptyGroups.push(label);
  }
  return {
    xnames: missing(t.xnames, 0),
    macs: missing(t.macs, t.xnames.length),
    nids: missing(t.nids, t.xnames.length + t.macs.length),
    unknownGroups: unknown,
    emptyGroups,
  };
}
