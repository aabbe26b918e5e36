import { graphql } from 'graphql';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { buildResolvers } from '../../../gateway/resolvers.js';
import { inProcessInvoker } from '../../../gateway/invoker.js';
import { domainLoaders } from '../../../gateway/domainLoaders.js';
import { domainHandler, type DomainManifest } from '../../../functions/shared/handler.js';
import type { DomainRegistration } from '../../../gateway/domains.js';
import type { Identity } from '../../../functions/shared/identity.js';

// A domain made for this test: a list of N nodes, each with a type field served by the same domain.
const manifest = {
  domain: 'fleet',
  scope: 'deployment',
  operations: {
    nodes: { access: 'read', field: 'Query.nodes' },
    nodeHealth: { access: 'read', field: 'Node.health' },
    setNote: { access: 'write', field: 'Mutation.setNote' },
  },
} as const satisfies DomainManifest;

const calls: number[] = [];
const handler = domainHandler(manifest, {
  nodes: async (a: { n: number }) => Array.from({ length: a.n }, (_, i) => ({ id: `n${i}` })),
  nodeHealth: async (_a, _ctx, source) => `ok:${String(source?.id)}`,
  setNote: async (a: { text: string }) => a.text,
});
const fleet: DomainRegistration = {
  manifest,
  load: async () => async (event) => {
    calls.push(event.calls.length);
    return handler(event);
  },
};

const schema = makeExecutableSchema({
  typeDefs: 'scalar XName scalar MAC scalar IPv4 scalar CIDR scalar DateTime scalar JSON type Query { nodes(n: Int!): [Node!]! } type Node { id: ID! health: String! } type Mutation { setNote(text: String!): String! } type Identity { subject: String! }',
  resolvers: (() => {
    const { whoami: _w, ...query } = buildResolvers([fleet]).Query as Record<string, unknown>;
    return { ...buildResolvers([fleet]), Query: query };
  })() as never,
});

async function run(source: string, identity: Identity) {
  const invoker = inProcessInvoker([fleet]);
  calls.length = 0;
  const result = await graphql({ schema, source, contextValue: { identity, requestId: 'r1', loaders: domainLoaders(invoker, identity, 'r1') } });
  return { result, invokes: invoker.count };
}

const viewer: Identity = { subject: 'v', roles: ['viewer'], site: null };

describe('per-request batching through the Invoker', () => {
  it('resolves a list of 100 nodes and their type field in two invokes, not 101', async () => {
    const { result, invokes } = await run('{ nodes(n: 100) { id health } }', viewer);
    expect(result.errors).toBeUndefined();
    const nodes = (result.data as { nodes: { id: string; health: string }[] }).nodes;
    expect(nodes).toHaveLength(100);
    expect(nodes[42]).toEqual({ id: 'n42', health: 'ok:n42' });
    expect(invokes).toBe(2);
    expect(calls).toEqual([1, 100]);
  });

  it('refuses a write by a viewer before invoking the domain', async () => {
    const { result, invokes } = await run('mutation { setNote(text: "x") }', viewer);
    expect(result.errors?.[0]?.message).toMatch(/needs the admin or operator role/);
    expect(invokes).toBe(0);
  });
});
