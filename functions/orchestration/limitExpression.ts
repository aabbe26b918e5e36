/**
 * A session's `limit` in BOS syntax: a comma-separated list of xnames, group labels or roles.
 * Terms are applied left to right: a plain term adds its nodes, `&term` keeps only nodes also in
 * it, `!term` removes its nodes; a limit that starts with `&` or `!` starts from every node. `*`
 * is every node. The session then boots the template's nodes that the limit keeps.
 */
import { BadUserInputError } from '../../schema/errors.js';
import { isXName, normaliseXName } from '../../schema/xname.js';
import { ROLES } from '../inventory/enums.js';

export interface LimitNode {
  xname: string;
  groups: string[];
  role: string | null;
}

export interface LimitTerm {
  op: 'or' | 'and' | 'not';
  kind: 'all' | 'xname' | 'group' | 'role';
  value: string;
}

/** Parses the text; which names exist is checked by `applyLimit`, against the site. */
export function parseLimit(text: string, field = 'input.limit'): LimitTerm[] {
  const parts = text.split(',').map((p) => p.trim());
  if (!parts.length || parts.some((p) => p === '' || p === '&' || p === '!')) throw new BadUserInputError(field, `"${text}" has an empty term; write e.g. "x1000c0s0b0n0,compute,&!x1000c0s0b0n1"`);
  return parts.map((p) => {
    const op = p.startsWith('&') ? 'and' : p.startsWith('!') ? 'not' : 'or';
    const name = op === 'or' ? p : p.slice(1);
    if (name === '*') return { op, kind: 'all', value: '*' };
    if (isXName(name)) return { op, kind: 'xname', value: normaliseXName(name, field) };
    if ((ROLES as readonly string[]).includes(name.toUpperCase())) return { op, kind: 'role', value: name.toUpperCase() };
    return { op, kind: 'group', value: name };
  });
}

/**
 * The xnames of `nodes` (the site's) that `terms` keep. Every xname must be a node of the site and
 * every group must exist (`knownGroups`): a typo would otherwise silently limit to nothing.
 */
export function applyLimit(terms: LimitTerm[], nodes: LimitNode[], knownGroups: ReadonlySet<string>, field = 'input.limit'): Set<string> {
  const all = new Set(nodes.map((n) => n.xname));
  const match = (t: LimitTerm): Set<string> => {
    if (t.kind === 'all') return new Set(all);
    if (t.kind === 'xname') {
      if (!all.has(t.value)) throw new BadUserInputError(field, `xname ${t.value} is not a node of this site`);
      return new Set([t.value]);
    }
    if (t.kind === 'role') return new Set(nodes.filter((n) => n.role === t.value).map((n) => n.xname));
    if (!knownGroups.has(t.value)) throw new BadUserInputError(field, `"${t.value}" is neither a node xname, a group nor a role (${ROLES.join(', ')})`);
    return new Set(nodes.filter((n) => n.groups.includes(t.value)).map((n) => n.xname));
  };
  let kept = terms[0] && terms[0].op !== 'or' ? new Set(all) : new Set<string>();
  for (const t of terms) {
    const m = match(t);
    if (t.op === 'or') for (const x of m) kept.add(x);
    else if (t.op === 'and') kept = new Set([...kept].filter((x) => m.has(x)));
    else for (const x of m) kept.delete(x);
  }
  return kept;
}

/** The group labels a limit names, so the caller can look them up in one read. */
export function limitGroups(terms: LimitTerm[]): string[] {
  return terms.filter((t) => t.kind === 'group').map((t) => t.value);
}
