/** Reads every page of a GraphQL connection (`first`/`after`), in order. */
import type { Gql } from './client.js';

export interface Connection<T> {
  edges: { node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * `query` takes `$first: Int` and `$after: String` and `pick` finds the connection in its answer.
 * `limit` stops after that many nodes. Pages of 100 keep each request well under the gateway's query-cost limit whatever the selection.
 */
export async function allPages<T, D>(gql: Gql, query: string, variables: Record<string, unknown>, pick: (data: D) => Connection<T>, pageSize = 100, limit = Infinity): Promise<T[]> {
  const nodes: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Connection<T> = pick(await gql<D>(query, { ...variables, first: pageSize, after }));
    nodes.push(...page.edges.map((e) => e.node));
    if (nodes.length >= limit || !page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return nodes;
    after = page.pageInfo.endCursor;
  }
}
