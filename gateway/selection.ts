/**
 * The result fields a query selects on one field, through fragments and inline fragments, so
 * a domain can leave out what nobody asked for (a bulk mutation's echo of every item).
 */
import type { GraphQLResolveInfo, SelectionSetNode } from 'graphql';

export function selectedFields(info: GraphQLResolveInfo): string[] {
  const out = new Set<string>();
  const walk = (set: SelectionSetNode | undefined, seen: Set<string>) => {
    for (const sel of set?.selections ?? []) {
      if (sel.kind === 'Field') out.add(sel.name.value);
      else if (sel.kind === 'InlineFragment') walk(sel.selectionSet, seen);
      else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        walk(info.fragments[sel.name.value]?.selectionSet, seen);
      }
    }
  };
  for (const node of info.fieldNodes) walk(node.selectionSet, new Set());
  return [...out].sort();
}
