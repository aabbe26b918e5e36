/**
 * What boot resolution needs to know about a node, read straight from the inventory's items
 * (functions/inventory/keys.ts and model.ts: the component item COMP#<xname> and the MAC claim
 * MAC#<mac>). A narrow interface so the boot domain depends on two item layouts, not on the
 * inventory's service code, and so the bench can feed facts from memory.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients } from '../shared/clients.js';
import { componentKey, macKey } from '../inventory/keys.js';
import { componentFromItem, type ComponentRecord } from '../inventory/model.js';

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
  byXname(xname: string): Promise<NodeFactsRecord | null>;
  /** The node owning the MAC, or null when the MAC is not in the inventory. */
  byMac(mac: string): Promise<NodeFactsRecord | null>;
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
  const byXname = async (xname: string): Promise<NodeFactsRecord | null> => {
    const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: componentKey(xname) }));
    return out.Item ? factsFromComponent(componentFromItem(out.Item)) : null;
  };
  return {
    byXname,
    byMac: async (mac) => {
      const out = await c.doc.send(new GetCommand({ TableName: c.config.tableName, Key: macKey(mac) }));
      return out.Item?.xname ? byXname(String(out.Item.xname)) : null;
    },
  };
}
