/**
 * The query-cost limit: an estimate of how many fields a query makes the gateway resolve, refused
 * before anything runs when it passes MAX_QUERY_COST. A field costs 1 each time it is resolved;
 * under a paged field (one with a `first` argument: every connection) its selection is resolved
 * once per item, `first` times (the variable's value when it is one, DEFAULT_PAGE when absent).
 * So a page of 1,000 components with a few dozen fields fits, and a page of nodes each asking
 * for a page of its own (1,000 × 100 × …) does not.
 *
 * It runs once the operation is resolved (variables known), not as a validation rule: a rule
 * sees no variables, so `first: $first` (how the CLI and the console ask) would count as 1.
 * The error names the cost, the limit and the most costly field, so a client knows what to cut.
 */
import { GraphQLError, Kind, getNamedType, isObjectType, isInterfaceType, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLField, type GraphQLSchema, type OperationDefinitionNode, type SelectionSetNode, type ValueNode } from 'graphql';
import type { ApolloServerPlugin } from '@apollo/server';
import { DEFAULT_PAGE } from '../../schema/pageSize.js';

/** Fields resolved per request; a page of MAX_PAGE (1,000) items with up to ~45 fields each fits. */
export const MAX_QUERY_COST = 50_000;

export interface QueryCost {
  cost: number;
  /** The field (a dotted path from the operation's root) whose subtree costs most, and its cost. */
  costliest: { path: string; cost: number; multiplier: number } | null;
}

interface Walk {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  costliest: QueryCost['costliest'];
}

function pageSizeOf(field: GraphQLField<unknown, unknown>, args: readonly { name: { value: string }; value: ValueNode }[], variables: Record<string, unknown>): number {
  if (!field.args.some((a) => a.name === 'first')) return 1;
  const arg = args.find((a) => a.name.value === 'first')?.value;
  const raw = arg?.kind === Kind.INT ? Number(arg.value) : arg?.kind === Kind.VARIABLE ? variables[arg.name.value] : undefined;
  // Out-of-range values are refused by the domain (pagination.ts); the estimate only needs a count.
  return typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? Math.floor(raw) : DEFAULT_PAGE;
}

function fieldOf(type: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields()[name] : undefined;
}

function selectionCost(w: Walk, type: GraphQLCompositeType, set: SelectionSetNode, multiplier: number, path: string, seen: ReadonlySet<string>): number {
  let cost = 0;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value.startsWith('__')) continue;
      const field = fieldOf(type, sel.name.value);
      // Unknown fields fail validation already; __typename and the like cost nothing here.
      if (!field) continue;
      let own = multiplier;
      if (sel.selectionSet) {
        const inner = multiplier * pageSizeOf(field, sel.arguments ?? [], w.variables);
        const named = getNamedType(field.type) as GraphQLCompositeType;
        const fieldPath = path ? `${path}.${sel.name.value}` : sel.name.value;
        own += selectionCost(w, named, sel.selectionSet, inner, fieldPath, seen);
        if (inner > multiplier && (!w.costliest || own > w.costliest.cost)) w.costliest = { path: fieldPath, cost: own, multiplier: inner };
      }
      cost += own;
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const on = sel.typeCondition ? (w.schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType | undefined) : type;
      cost += on ? selectionCost(w, on, sel.selectionSet, multiplier, path, seen) : 0;
    } else {
      const name = sel.name.value;
      const fragment = w.fragments.get(name);
      // A fragment spreading itself is refused by validation (NoFragmentCycles); it is not walked twice.
      if (!fragment || seen.has(name)) continue;
      const on = w.schema.getType(fragment.typeCondition.name.value) as GraphQLCompositeType | undefined;
      cost += on ? selectionCost(w, on, fragment.selectionSet, multiplier, path, new Set([...seen, name])) : 0;
    }
  }
  return cost;
}

export function queryCost(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>, variables: Record<string, unknown>): QueryCost {
  const root = schema.getRootType(operation.operation);
  if (!root) return { cost: 0, costliest: null };
  const w: Walk = { schema, fragments, variables, costliest: null };
  const cost = selectionCost(w, root, operation.selectionSet, 1, '', new Set());
  return { cost, costliest: w.costliest };
}

const fmt = (n: number) => n.toLocaleString('en-US');

export function queryCostError(c: QueryCost, limit = MAX_QUERY_COST): GraphQLError {
  const where = c.costliest ? `; the most costly part is ${c.costliest.path} (${fmt(c.costliest.cost)}: each field under it is resolved ${fmt(c.costliest.multiplier)} times)` : '';
  return new GraphQLError(`query cost ${fmt(c.cost)} exceeds the limit of ${fmt(limit)} fields resolved${where}. Ask for fewer items per page (first), fewer fields, or page through nested lists one at a time`, {
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED', cost: c.cost, maxCost: limit, http: { status: 400 } },
  });
}

/** The Apollo plugin: refuses an operation over the limit once its variables are known. */
export function queryCostLimit<T extends object>(limit = MAX_QUERY_COST): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request }) {
          if (!operation) return;
          const fragments = new Map(document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
          const cost = queryCost(schema, operation, fragments, request.variables ?? {});
          if (cost.cost > limit) throw queryCostError(cost, limit);
        },
      };
    },
  };
}
