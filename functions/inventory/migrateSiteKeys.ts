/**
 * Migrates a table written before sites were in the inventory's keys (commit a1b9210 and
 * earlier: COMP#<xname>, MAC#<mac>, IP#<network>#<ip>, NID#<nid>, MEMBER#<xname>,
 * EXCL#<group>#<xname>, RFE#<xname>, and inventory's own INV#SITES registry) to the per-site
 * layout of keys.ts. An operator tool, so it scans (tools/migrateSiteKeys.ts runs it).
 *
 * - Each old item becomes its new item in one transaction (put the new key, delete the old),
 *   so an interrupted run leaves every item in exactly one of its two forms; running again
 *   converts what is left (resumable), and a run over a migrated table writes nothing
 *   (idempotent).
 * - A claim or member item without a site attribute takes the site of the component it names:
 *   before this layout an xname was unique, so one component answers; if items of the new
 *   layout already repeat the xname, the component that lists the MAC, IP, NID, group or
 *   partition decides.
 * - Every site that holds inventory and has no site item is registered with the sites domain
 *   (adoptSite) before its items move; then the INV#SITES markers are deleted.
 * - When the new key already exists (written by the current code after the deployment moved
 *   on), the new item wins and the old one is deleted ("superseded").
 */
import { DeleteCommand, ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { adoptSite, unknownSites } from '../sites/registry.js';
import { componentKey, exclusiveKey, hardwareKey, ipKey, macKey, memberSk, nidKey, redfishEndpointKey } from './keys.js';

type Item = Record<string, unknown>;
type Key = { PK: string; SK: string };

interface ComponentFacts {
  site: string;
  nid: unknown;
  macs: string[];
  ips: string[];
  groups: string[];
  partition: unknown;
}

export interface SiteKeyMigrationOptions {
  /** Stop after this many converted items (the rest is left for the next run). */
  maxItems?: number;
  /** Report what would change without writing. */
  dryRun?: boolean;
}

export interface SiteKeyMigrationReport {
  scanned: number;
  /** Old items rewritten to their new keys in this run. */
  converted: number;
  /** Old items dropped because the new key already held a newer item. */
  superseded: number;
  /** INV#SITES markers deleted. */
  markersRemoved: number;
  /** Sites registered with the sites domain because they held inventory without a site item. */
  adoptedSites: string[];
  /** Old items still to convert (non-zero after maxItems, or for problems). */
  remaining: number;
  /** Items this run could not convert, and why. */
  problems: string[];
}

const parts = (s: unknown) => String(s).split('#');

async function scanAll(c: Clients): Promise<Item[]> {
  const out: Item[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await c.doc.send(new ScanCommand({ TableName: c.config.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

function factsOf(item: Item): ComponentFacts {
  const interfaces = (item.interfaces as { mac: string; ipAddresses?: string[]; network?: string }[] | undefined) ?? [];
  const groups = item.groups instanceof Set ? [...(item.groups as Set<string>)] : ((item.groups as string[] | undefined) ?? []);
  return {
    site: String(item.site),
    nid: item.nid,
    macs: interfaces.map((i) => i.mac),
    ips: interfaces.flatMap((i) => (i.ipAddresses ?? []).map((ip) => `${i.network ?? 'default'}#${ip}`)),
    groups,
    partition: item.partition,
  };
}

/** The old item's new form, or a reason it cannot have one yet; undefined when it is no old item. */
type Conversion = { key: Key; item: Item } | { marker: string } | { problem: string };

function convert(item: Item, siteOf: (xname: string, owns: (f: ComponentFacts) => boolean) => string | string[]): Conversion | undefined {
  const pk = parts(item.PK);
  const sk = String(item.SK);
  const xname = String(item.xname);
  const withSite = (key: Key, site: string): Conversion => ({ key, item: { ...item, ...key, site } });
  const bySite = (owns: (f: ComponentFacts) => boolean, make: (site: string) => Key): Conversion => {
    const site = siteOf(xname, owns);
    if (typeof site === 'string') return withSite(make(site), site);
    return { problem: `${String(item.PK)} / ${sk}: ${site.length ? `components ${xname} of sites ${site.join(', ')} all claim it` : `no component ${xname} holds it`}` };
  };
  switch (pk[0]) {
    case 'COMP':
      if (pk.length !== 2) return undefined;
      if (sk === 'COMP') return withSite(componentKey(String(item.site), pk[1]!), String(item.site));
      if (sk === 'HW') return item.site ? withSite(hardwareKey(String(item.site), pk[1]!), String(item.site)) : bySite(() => true, (s) => hardwareKey(s, pk[1]!));
      return undefined;
    case 'MAC':
      if (pk.length !== 2 || sk !== 'MAC') return undefined;
      return item.site ? withSite(macKey(String(item.site), pk[1]!), String(item.site)) : bySite((f) => f.macs.includes(pk[1]!), (s) => macKey(s, pk[1]!));
    case 'IP':
      if (pk.length !== 3 || sk !== 'IP') return undefined;
      return bySite((f) => f.ips.includes(`${pk[1]}#${pk[2]}`), (s) => ipKey(s, pk[1]!, pk[2]!));
    case 'NID':
      if (pk.length !== 2 || sk !== 'NID') return undefined;
      return bySite((f) => String(f.nid) === pk[1], (s) => nidKey(s, Number(pk[1])));
    case 'GROUP':
    case 'PART': {
      if (pk.length !== 2 || parts(sk).length !== 2 || !sk.startsWith('MEMBER#')) return undefined;
      const n = pk[1]!;
      const owns = pk[0] === 'GROUP' ? (f: ComponentFacts) => f.groups.includes(n) : (f: ComponentFacts) => f.partition === n;
      return bySite(owns, (s) => ({ PK: String(item.PK), SK: memberSk(s, xname) }));
    }
    case 'EXCL':
      if (pk.length !== 3 || sk !== 'EXCL') return undefined;
      return bySite((f) => f.groups.includes(String(item.label)), (s) => exclusiveKey(pk[1]!, s, pk[2]!));
    case 'RFE':
      if (pk.length !== 2 || sk !== 'RFE') return undefined;
      return withSite(redfishEndpointKey(String(item.site), pk[1]!), String(item.site));
    case 'INV':
      return item.PK === 'INV#SITES' ? { marker: String(item.site) } : undefined;
    default:
      return undefined;
  }
}

export async function migrateSiteKeys(c: Clients, opts: SiteKeyMigrationOptions = {}): Promise<SiteKeyMigrationReport> {
  const items = await scanAll(c);
  const report: SiteKeyMigrationReport = { scanned: items.length, converted: 0, superseded: 0, markersRemoved: 0, adoptedSites: [], remaining: 0, problems: [] };

  // Components of both layouts: the old ones are what claims name, the new ones what an interrupted run left.
  const components = new Map<string, ComponentFacts[]>();
  for (const i of items) {
    if (parts(i.PK)[0] === 'COMP' && i.SK === 'COMP') components.set(String(i.xname), [...(components.get(String(i.xname)) ?? []), factsOf(i)]);
  }
  const siteOf = (xname: string, owns: (f: ComponentFacts) => boolean): string | string[] => {
    const all = components.get(xname) ?? [];
    const sites = [...new Set(all.map((f) => f.site))];
    if (sites.length === 1) return sites[0]!;
    const owning = [...new Set(all.filter(owns).map((f) => f.site))];
    return owning.length === 1 ? owning[0]! : owning.length ? owning : sites;
  };

  const work = items.flatMap((item) => {
    const conv = convert(item, siteOf);
    return conv ? [{ item, conv }] : [];
  });

  // The one registry: every site the old inventory held becomes a site item first.
  const sites = new Set<string>();
  for (const { conv } of work) {
    if ('marker' in conv) sites.add(conv.marker);
    else if ('item' in conv) sites.add(String(conv.item.site));
  }
  for (const site of await unknownSites(c, [...sites])) {
    if (opts.dryRun) {
      report.adoptedSites.push(site);
      continue;
    }
    try {
      if (await adoptSite(c, site, 'registered by the site-key migration: it held inventory')) report.adoptedSites.push(site);
    } catch (err) {
      report.problems.push(`site ${site}: ${(err as Error).message}`);
    }
  }

  const TableName = c.config.tableName;
  const budget = opts.maxItems ?? Infinity;
  // Markers last: while one is left, the run that removes it has not finished.
  work.sort((a, b) => Number('marker' in a.conv) - Number('marker' in b.conv));
  for (const { item, conv } of work) {
    if ('problem' in conv) {
      report.problems.push(conv.problem);
      report.remaining++;
      continue;
    }
    if (opts.dryRun || report.converted + report.superseded + report.markersRemoved >= budget) {
      report.remaining++;
      continue;
    }
    const oldKey = { PK: String(item.PK), SK: String(item.SK) };
    if ('marker' in conv) {
      await c.doc.send(new DeleteCommand({ TableName, Key: oldKey }));
      report.markersRemoved++;
      continue;
    }
    try {
      await c.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: conv.item, ConditionExpression: 'attribute_not_exists(PK)' } },
            { Delete: { TableName, Key: oldKey, ConditionExpression: 'attribute_exists(PK)' } },
          ],
        }),
      );
      report.converted++;
    } catch (err) {
      const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      if ((err as { name?: string }).name !== 'TransactionCanceledException') throw err;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        await c.doc.send(new DeleteCommand({ TableName, Key: oldKey }));
        report.superseded++;
      } else if (reasons[1]?.Code !== 'ConditionalCheckFailed') {
        // Not "already gone": a concurrent writer collided; the next run picks it up.
        report.remaining++;
      }
    }
  }
  return report;
}
