/**
 * What boot resolution needs to know about a node, read through the inventory's exported
 * lookups (functions/inventory/lookup.ts), addressed by site: xnames and MACs are unique within
 * a site only. A narrow interface so the bench can feed facts from memory.
 */
import type { Clients } from '../shared/clients.js';
import { componentRecord, componentRecordByMac, type ComponentRecord } from '../inventory/lookup.js';

export interface NodeFactsRecord {
  xname: string;
  site: string;
  macs: string[];
  nid: number | null;
  groups: string[];
  role: string | null;
  subRole: string | null;
  arch: 'X86' | 'ARM' | 'OTHER' | null;
}

export interface NodeFacts {
  byXname(site: string, xname: string): Promise<NodeFactsRecord | null>;
  /** The node of `site` owning the MAC, or null when the site's inventory does not list it. */
  byMac(site: string, mac: string): Promise<NodeFactsRecord | null>;
}

/** The facts of one inventory component (also for callers that already hold the records, e.g. a site snapshot). */
export function factsFromComponent(r: ComponentRecord): NodeFactsRecord {
  return {
    xname: r.xname,
    site: r.site,
    macs: (r.interfaces ?? []).map((i) => i.mac).sort(),
    nid: r.nid ?? null,
    groups: [...(r.groups ?? [])].sort(),
    role: r.role ?? null,
    subRole: r.subRole ?? null,
    arch: r.arch ?? null,
  };
}

export function dynamoNodeFacts(c: Clients): NodeFacts {
  const facts = (r: ComponentRecord | null) => (r ? factsFromComponent(r) : null);
  return {
    byXname: async (site, xname) => facts(await componentRecord(c, site, xname)),
    byMac: async (site, mac) => facts(await componentRecordByMac(c, site, mac)),
  };
}
