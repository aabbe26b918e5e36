import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { buildSchema } from '../../../gateway/server.js';
import { MAX_QUERY_COST, queryCost, queryCostError } from '../../../gateway/plugins/queryCost.js';

const schema = buildSchema();

function costOf(query: string, variables: Record<string, unknown> = {}) {
  const doc = parse(query);
  const op = doc.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  const fragments = new Map(doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]));
  return queryCost(schema, op, fragments, variables);
}

const PAGE_OF_FOUR = 'edges { node { xname nid role state } } pageInfo { hasNextPage endCursor }';

describe('query cost: fields resolved, with page sizes', () => {
  it.each([
    // [what, query, variables, cost]
    ['one scalar', '{ sites { name } }', {}, 2],
    // components 1 + 1,000 × (edges 1 + node 1 + 4 fields) + 1,000 × (pageInfo 1 + 2 fields)
    ['a page of 1,000 components with four fields', `{ components(first: 1000) { ${PAGE_OF_FOUR} } }`, {}, 1 + 1000 * 6 + 1000 * 3],
    ['the same page size from a variable', `query($f: Int) { components(first: $f) { ${PAGE_OF_FOUR} } }`, { f: 1000 }, 1 + 1000 * 9],
    ['no first: the default page of 50', `{ components { ${PAGE_OF_FOUR} } }`, {}, 1 + 50 * 9],
    ['a null variable: the default page', `query($f: Int) { components(first: $f) { ${PAGE_OF_FOUR} } }`, { f: null }, 1 + 50 * 9],
    ['a named fragment costs what it selects', `{ components(first: 10) { edges { node { ...c } } } } fragment c on Component { xname nid }`, {}, 1 + 10 * 4],
    ['an inline fragment too', `{ components(first: 10) { edges { node { ... on Component { xname nid } } } } }`, {}, 1 + 10 * 4],
    ['__typename costs nothing', `{ components(first: 10) { __typename edges { node { xname } } } }`, {}, 1 + 10 * 3],
  ])('%s', (_what, query, variables, cost) => {
    expect(costOf(query, variables).cost).toBe(cost);
  });

  it('fits a page of 1,000 with every scalar field of a component, as the docs allow', () => {
    const all = 'xname nid role subRole state flag arch enabled site groups netType class interfaces { mac ipAddresses network }';
    expect(costOf(`{ components(first: 1000) { edges { cursor node { ${all} } } pageInfo { hasNextPage endCursor } } }`).cost).toBeLessThan(MAX_QUERY_COST);
  });

  it('names the costliest nested page: a page of groups each asking for 1,000 members', () => {
    const c = costOf('{ groups(first: 100) { edges { node { label members(first: 1000) { edges { node { xname } } } } } } }');
    expect(c.cost).toBeGreaterThan(MAX_QUERY_COST);
    expect(c.costliest).toMatchObject({ path: 'groups', multiplier: 100 });
    const err = queryCostError(c);
    expect(err.message).toMatch(/^query cost [\d,]+ exceeds the limit of 50,000 fields resolved; the most costly part is groups \([\d,]+: each field under it is resolved 100 times\)\. Ask for fewer items per page \(first\), fewer fields, or page through nested lists one at a time$/);
    expect(err.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', cost: c.cost, maxCost: MAX_QUERY_COST });
  });
});
