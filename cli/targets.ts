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
import { expandHostlist, HostlistError, splitHostlist } from '../schema/hostlist.js';
import { allPages, type Connection } from './paging.js';
import { ROLES } from './options.js';

export interface ResolvedTargets {
  xnames: string[];
  /** Targets that name nothing in the inventory (a NID no node holds, an empty group or role). */
  unmatched: string[];
}

const NID = /^nid0*(\d+)$/i;

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

/** A malformed hostlist is a usage error (exit 2), its message naming the list and the fault. */
function usage<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof HostlistError) throw new CliError(err.message, { exitCode: 2, cause: err });
    throw err;
  }
}

export async function resolveTargets(gql: Gql, args: readonly string[], site?: string): Promise<ResolvedTargets> {
  // Xnames in the order given; a NID holds its place until the inventory says whose it is.
  const xnames: (string | { nid: number; text: string })[] = [];
  const unmatched: string[] = [];
  let nids = false;
  const siteFilter = site ? { site } : {};
  if (!args.length) throw new CliError('no targets: give xnames, hostlists (x1000c0s[0-7]b0n0), nid[1-4], @group or role:compute', { exitCode: 2 });
  for (const item of args.flatMap((a) => usage(() => splitHostlist(a)))) {
    if (item.startsWith('@')) {
      const found = await components(gql, { ...siteFilter, group: item.slice(1) });
      if (!found.length) unmatched.push(item);
      xnames.push(...found.map((c) => c.xname));
    } else if (/^role:/i.test(item)) {
      const [role, subRole] = item.slice(5).split('/');
      const upper = (role ?? '').toUpperCase();
      if (!(ROLES as readonly string[]).includes(upper)) throw new CliError(`target "${item}": role "${role}" is not one of ${ROLES.map((r) => r.toLowerCase()).join(', ')}`, { exitCode: 2 });
      const found = await components(gql, { ...siteFilter, role: upper, ...(subRole ? { subRole } : {}) });
      if (!found.length) unmatched.push(item);
      xnames.push(...found.map((c) => c.xname));
    } else {
      const hosts = usage(() => expandHostlist(item));
      for (const h of hosts) {
        const nid = NID.exec(h);
        if (nid) {
          xnames.push({ nid: Number(nid[1]), text: h });
          nids = true;
        }
        else if (isXName(h)) xnames.push(normaliseXName(h));
        else throw new CliError(`target "${h}" is not an xname, nid<N>, @group or role:<role>`, { exitCode: 2 });
      }
    }
  }
  const byNid = new Map<number, string>();
  if (nids) for (const c of await components(gql, siteFilter)) if (c.nid !== null) byNid.set(c.nid, c.xname);
  const resolved: string[] = [];
  for (const x of xnames) {
    if (typeof x === 'string') resolved.push(x);
    else if (byNid.has(x.nid)) resolved.push(byNid.get(x.nid)!);
    else unmatched.push(x.text);
  }
  return { xnames: [...new Set(resolved)], unmatched };
}
