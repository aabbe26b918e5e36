/**
 * The resolver map, generated from the domains' manifests: each operation with a `field`
 * resolves that field by an access check here (refused before any invoke) and a batched
 * call to its domain.
 */
import type { GraphQLFieldResolver } from 'graphql';
import { scalarResolvers } from '../schema/scalars.js';
import { assertAllowed } from '../functions/shared/identity.js';
import type { RoutedDomain } from './manifests.js';
import type { GatewayContext } from './context.js';
import { selectedFields } from './selection.js';

type Resolver = GraphQLFieldResolver<Record<string, unknown> | undefined, GatewayContext, Record<string, unknown>>;
export type ResolverMap = Record<string, Record<string, Resolver> | (typeof scalarResolvers)[keyof typeof scalarResolvers]>;

export function buildResolvers(domains: readonly RoutedDomain[]): ResolverMap {
  const map: Record<string, Record<string, Resolver>> = {
    Query: {
      whoami: (_s, _a, { identity }) => ({
        ...identity,
        siteRoles: Object.entries(identity.siteRoles ?? {}).flatMap(([site, roles]) => roles.map((r) => `${r}@${site}`)),
      }),
    },
  };
  for (const { manifest } of domains) {
    for (const [operation, spec] of Object.entries(manifest.operations)) {
      if (!spec.field) continue;
      const [type, field] = spec.field.split('.') as [string, string];
      map[type] ??= {};
      if (map[type][field]) throw new Error(`${spec.field} is resolved by two operations`);
      const isRoot = type === 'Query' || type === 'Mutation';
      map[type][field] = (source, args, ctx, info) => {
        assertAllowed(ctx.identity, spec.access, spec.field!, spec.scope ?? manifest.scope);
        const selection = spec.selection ? { selection: selectedFields(info) } : {};
        return ctx.loaders(manifest.domain).load(isRoot || !source ? { operation, args, ...selection } : { operation, args, source, ...selection });
      };
    }
  }
  return { ...map, ...scalarResolvers };
}
