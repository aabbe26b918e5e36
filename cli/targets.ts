/**
 * Node targets as operators type them, resolved against the inventory of one site:
 *   x1000c0s0b0n0, x1000c0s[0-7]b0n[0-1]   xnames and hostlists of xnames
 *   nid[0001-0128], nid7                    NIDs (hostlists too)
 *   @compute                                a group's members
 *   role:compute[/subrole]                  components of a role (and sub-role)
 * Arguments may be repeated or comma-joined; order is kept and duplicates dropped.
 */
import { isXName, normaliseXName } from '../schema/xname.js';
import { CliError, type Gql } from './client.js';
import { expandHostlist, splitHostlist } from './hostlist.js';
import { allPages, type Connection } from './paging.js';

export interface ResolvedTargets {
  xnames: string[];
  /** Targets that name nothing in the inventory (a NID no node holds, an empty group or role). */
  unmatched: string[];
}

const NID = /^nid0*(\d+)$/i;
const ROLES = ['COMPUTE', 'SERVICE', 'SYSTEM', 'APPLICATION', 'STORAGE', 'MANAGEMENT'];

interface Member {
  xname: string;
  nid: number | null;
}

async function components(gql: Gql, filter: Record<string, unknown>): Promise<Member[]> {
  return allPages<Member, { components: Connection<Member> }>(
    gql,
    'query($filter: ComponentFilter, $first: Int, $after: String) { components(filter: $filter, first: $first, after: $after) { edges { node { xname nid } } pageInfo { hasNextPage endCursor } } }',
    { filter },
    (d) => d.components,
  );
}

export async function resolveTargets(gql: Gql, args: readonly string[], site?: string): Promise<ResolvedTargets> {
  const xnames: string[] = [];
  const unmatched: string[] = [];
  const nids: { nid: number; text: string }[] = [];
  const siteFilter = site ? { site } : {};
  if (!args.length) throw new CliError('no targets: give xnames, hostlists (x1000c0s[0-7]b0n0), nid[1-4], @group or role:compute', { exitCode: 2 });
  for (const item of args.flatMap((a) => splitHostlist(a))) {
    if (item.startsWith('@')) {
      const found = await components(gql, { ...siteFilter, group: item.slice(1) });
      if (!found.length) unmatched.push(item);
      xnames.push(...found.map((c) => c.xname));
    } else if (/^role:/i.test(item)) {
      const [role, subRole] = item.slice(5).split('/');
      const upper = (role ?? '').toUpperCase();
      if (!ROLES.includes(upper)) throw new CliError(`target "${item}": role "${role}" is not one of ${ROLES.map((r) => r.toLowerCase()).join(', ')}`, { exitCode: 2 });
      const found = await components(gql, { ...siteFilter, role: upper, ...(subRole ? { subRole } : {}) });
      if (!found.length) unmatched.push(item);
      xnames.push(...found.map((c) => c.xname));
    } else {
      let hosts: string[];
      try {
        hosts = expandHostlist(item);
      } catch (err) {
        throw new CliError(`target "${item}": ${(err as Error).message}`, { exitCode: 2, cause: err });
      }
      for (const h of hosts) {
        const nid = NID.exec(h);
        if (nid) nids.push({ nid: Number(nid[1]), text: h });
        else if (isXName(h)) xnames.push(normaliseXName(h));
        else throw new CliError(`target "${h}" is not an xname, nid<N>, @group or role:<role>`, { exitCode: 2 });
      }
    }
  }
  if (nids.length) {
    const byNid = new Map<number, string>();
    for (const c of await components(gql, siteFilter)) if (c.nid !== null) byNid.set(c.nid, c.xname);
    for (const n of nids) {
      const x = byNid.get(n.nid);
      if (x) xnames.push(x);
      else unmatched.push(n.text);
    }
  }
  return { xnames: [...new Set(xnames)], unmatched };
}
