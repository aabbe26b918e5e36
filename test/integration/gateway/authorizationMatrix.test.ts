import { readFileSync } from 'node:fs';
import { generateKeyPair, SignJWT } from 'jose';
import {
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLField,
  type GraphQLInputType,
} from 'graphql';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { buildSchema } from '../../../gateway/server.js';
import { domains } from '../../../gateway/domains.js';
import { authorizationMarkdown, authorizationRules } from '../../../gateway/authorization.js';

/**
 * Every query and mutation × every caller: admin, operator, viewer, agents of two sites, no
 * token, an expired token and a token from another issuer. Arguments are generated from the
 * schema (well-formed placeholders), so a call either passes the gate (and may then fail for
 * its own reasons, e.g. NOT_FOUND) or is refused by it with exactly the documented code.
 */
const SCALAR_SAMPLES: Record<string, string> = {
  XName: '"x1000c0s0b0n0"',
  MAC: '"02:00:00:00:00:01"',
  IPv4: '"10.0.0.1"',
  CIDR: '"10.0.0.0/24"',
  DateTime: '"2026-01-01T00:00:00Z"',
  JSON: '{}',
  ID: '"matrix-id"',
  String: '"matrix"',
  Int: '1',
  Float: '1',
  Boolean: 'false',
};

function sample(type: GraphQLInputType, depth = 0): string {
  if (isNonNullType(type)) return sample(type.ofType as GraphQLInputType, depth);
  if (isListType(type)) return `[${sample(type.ofType as GraphQLInputType, depth)}]`;
  if (isScalarType(type)) return SCALAR_SAMPLES[type.name] ?? '"matrix"';
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => isNonNullType(f.type) && f.defaultValue === undefined);
    return `{ ${fields.map((f) => `${f.name}: ${depth > 4 ? 'null' : sample(f.type, depth + 1)}`).join(', ')} }`;
  }
  throw new Error(`no sample for ${String(type)}`);
}

function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>): string {
  const args = field.args.filter((a) => isNonNullType(a.type)).map((a) => `${a.name}: ${sample(a.type)}`);
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return `${kind} { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selection} }`;
}

describe('authorization matrix: every operation × every caller', () => {
  let gw: TestGateway;
  const callers: Record<string, string | null> = {};
  beforeAll(async () => {
    gw = await startTestGateway();
    callers.admin = gw.tokens.admin;
    callers.operator = gw.tokens.operator;
    callers.viewer = gw.tokens.viewer;
    callers['agent of site A'] = await gw.agentToken('site-a');
    callers['agent of site B'] = await gw.agentToken('site-b');
    callers['no token'] = null;
    callers['expired token'] = await gw.forgedToken({ groups: ['admin'], ttlSeconds: -5 });
    const { privateKey } = await generateKeyPair('RS256');
    callers['token from another issuer'] = await new SignJWT({ 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other')
      .setExpirationTime('1h')
      .sign(privateKey);
  });
  afterAll(() => gw.close());

  it('docs/authorization.md is the matrix the manifests define (run `npm run docs:authz` after changing one)', () => {
    expect(readFileSync(new URL('../../../docs/authorization.md', import.meta.url), 'utf8')).toBe(authorizationMarkdown(domains));
  });

  it('every root field of the schema has a rule', () => {
    const schema = buildSchema();
    const fields = ['Query', 'Mutation'].flatMap((t) => Object.keys(schema.getType(t) && isObjectType(schema.getType(t)) ? (schema.getType(t) as never as { getFields(): object }).getFields() : {}).map((f) => `${t}.${f}`));
    const ruled = new Set(authorizationRules(domains).map((r) => r.field));
    expect(fields.filter((f) => !ruled.has(f))).toEqual([]);
  });

  it('answers each call with the documented outcome', async () => {
    const schema = buildSchema();
    const rules = new Map(authorizationRules(domains).map((r) => [r.field, r]));
    const mismatches: string[] = [];
    let calls = 0;
    for (const kind of ['query', 'mutation'] as const) {
      const root = kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!;
      for (const field of Object.values(root.getFields())) {
        const rule = rules.get(`${root.name}.${field.name}`)!;
        const document = operationFor(kind, field);
        // The eight callers of one field run together; fields run one after another.
        await Promise.all(
          Object.entries(callers).map(async ([caller, token]) => {
            const res = await gw.gql(document, undefined, token);
            calls += 1;
            const codes = (res.errors ?? []).map((e) => e.extensions?.code);
            const role = caller.startsWith('agent') ? 'agent' : caller;
            let expected: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'passes the gate';
            if (token === null || caller === 'expired token' || caller === 'token from another issuer') expected = 'UNAUTHENTICATED';
            else expected = (rule.roles as readonly string[]).includes(role) ? 'passes the gate' : 'FORBIDDEN';
            const ok =
              expected === 'passes the gate'
                ? !codes.includes('FORBIDDEN') && !codes.includes('UNAUTHENTICATED') && !codes.includes('GRAPHQL_VALIDATION_FAILED')
                : codes.includes(expected) && res.data?.[field.name as never] == null;
            if (!ok) mismatches.push(`${caller} → ${document}: expected ${expected}, got ${JSON.stringify(res.errors ?? res.data).slice(0, 300)}`);
          }),
        );
      }
    }
    expect(calls).toBeGreaterThan(100);
    expect(mismatches).toEqual([]);
  }, 300_000);
});
