import { readFileSync } from 'node:fs';
import { generateKeyPair, SignJWT } from 'jose';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
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
  type GraphQLNamedType,
} from 'graphql';
import type { TestGateway } from '../../support/gateway.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import { buildSchema } from '../../../gateway/server.js';
import { domains } from '../../../gateway/domains.js';
import { authorizationMarkdown, authorizationRules, type FieldRule } from '../../../gateway/authorization.js';

/**
 * Every query and mutation × every caller: admin, a deployment-wide operator and viewer, an
 * operator of lab-a only (`operator@lab-a`, a dev user of the local authorization server),
 * agents of lab-a and lab-b, no token, an expired token and a token from another issuer.
 * Both sites are seeded alike (x1000c0s0b0n0, the same MACs, a boot configuration, a power
 * request, members of one shared group and partition). Arguments are generated from the schema
 * and name the site a call addresses (`site`, `input.site`, `fromSite`/`toSite`, the site's own
 * ids), and the selection asks for every field three levels deep, so an answer carrying another
 * site's item would show it.
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
const SITE_ARGS = new Set(['site', 'fromSite', 'toSite']);

/** What a call addresses: a site, and that site's own ids for arguments that name an item. */
interface Target {
  site: string;
  ids: Record<string, string>;
}

function sample(type: GraphQLInputType, t: Target, name: string, depth = 0): string {
  if (isNonNullType(type)) return sample(type.ofType as GraphQLInputType, t, name, depth);
  if (isListType(type)) return `[${sample(type.ofType as GraphQLInputType, t, name, depth)}]`;
  if (SITE_ARGS.has(name)) return JSON.stringify(t.site);
  if (isScalarType(type)) return t.ids[name] ? JSON.stringify(t.ids[name]) : (SCALAR_SAMPLES[type.name] ?? '"matrix"');
  if (isEnumType(type)) return type.getValues()[0]!.name;
  if (isInputObjectType(type)) {
    const fields = Object.values(type.getFields()).filter((f) => SITE_ARGS.has(f.name) || (isNonNullType(f.type) && f.defaultValue === undefined));
    return `{ ${fields.map((f) => `${f.name}: ${depth > 4 ? 'null' : sample(f.type, t, f.name, depth + 1)}`).join(', ')} }`;
  }
  throw new Error(`no sample for ${String(type)}`);
}

/** Every field without required arguments, objects three levels deep. */
function selectionOf(type: GraphQLNamedType, depth = 0): string {
  if (!isObjectType(type)) return '';
  const parts = ['__typename'];
  for (const f of Object.values(type.getFields())) {
    if (f.args.some((a) => isNonNullType(a.type))) continue;
    const named = getNamedType(f.type);
    if (isObjectType(named)) {
      if (depth < 3) parts.push(`${f.name}${selectionOf(named, depth + 1)}`);
    } else if (isScalarType(named) || isEnumType(named)) parts.push(f.name);
  }
  return ` { ${parts.join(' ')} }`;
}

function operationFor(kind: 'query' | 'mutation', field: GraphQLField<unknown, unknown>, t: Target): string {
  const args = field.args.filter((a) => isNonNullType(a.type) || SITE_ARGS.has(a.name)).map((a) => `${a.name}: ${sample(a.type, t, a.name)}`);
  return `${kind} { ${field.name}${args.length ? `(${args.join(', ')})` : ''}${selectionOf(getNamedType(field.type))} }`;
}

function rootFields(kind: 'query' | 'mutation'): GraphQLField<unknown, unknown>[] {
  const schema = buildSchema();
  return Object.values((kind === 'query' ? schema.getQueryType()! : schema.getMutationType()!).getFields());
}

const ruleOf = (field: string): FieldRule => authorizationRules(domains).find((r) => r.field === field)!;
const codesOf = (res: { errors?: { extensions?: { code?: string } }[] }) => (res.errors ?? []).map((e) => e.extensions?.code);

describe('authorization matrix: every operation × every caller, on two sites', () => {
  let cloud: TestCloud;
  let gw: TestGateway;
  let a: SiteFixture;
  let b: SiteFixture;
  const targets: Record<string, Target> = {};
  const callers: Record<string, string | null> = {};
  beforeAll(async () => {
    cloud = await startTestCloud();
    gw = cloud.gw;
    a = await siteFixture(gw, 'lab-a', { imageName: 'compute-a' });
    b = await siteFixture(gw, 'lab-b', { imageName: 'compute-b' });
    const ok = async <T>(q: string, v?: Record<string, unknown>): Promise<T> => {
      const r = await gw.gql<T>(q, v);
      if (r.errors?.length || !r.data) throw new Error(`seed: ${JSON.stringify(r.errors)}`);
      return r.data;
    };
    await ok(`mutation { createGroup(input: { label: "matrix" }) { label } createPartition(input: { name: "matrix" }) { name } }`);
    for (const fx of [a, b]) {
      await ok(`mutation($s: String) { addGroupMembers(label: "matrix", xnames: ["x1000c0s0b0n0"], site: $s) { __typename } addPartitionMembers(name: "matrix", xnames: ["x1000c0s0b0n0"], site: $s) { __typename } }`, { s: fx.site });
      const power = await ok<{ requestPower: { id: string }[] }>(`mutation($s: String) { requestPower(xnames: ["x1000c0s0b0n0"], action: ON, site: $s) { id } }`, { s: fx.site });
      const configs = await ok<{ bootConfigurations: { edges: { node: { id: string } }[] } }>(`query($s: String) { bootConfigurations(site: $s) { edges { node { id } } } }`, { s: fx.site });
      // An id argument names this site's item: its boot configuration, its power request, its image.
      targets[fx.site] = { site: fx.site, ids: { id: configs.bootConfigurations.edges[0]!.node.id, imageId: fx.imageId } };
      targets[`${fx.site} power`] = { site: fx.site, ids: { id: power.requestPower[0]!.id, imageId: fx.imageId } };
      // A boot session of the site's own (a template over its node, rebooting it): session fields get its id.
      await ok(`mutation($s: String, $img: ID!) { putBootTemplate(input: { name: "matrix", site: $s, bootSets: [{ name: "all", imageId: $img, xnames: ["x1000c0s0b0n0"] }] }) { name } }`, { s: fx.site, img: fx.imageId });
      const session = await ok<{ createBootSession: { id: string } }>(`mutation($s: String) { createBootSession(input: { template: "matrix", site: $s, operation: REBOOT }) { id } }`, { s: fx.site });
      targets[`${fx.site} session`] = { site: fx.site, ids: { id: session.createBootSession.id, imageId: fx.imageId } };
    }
    callers.admin = gw.tokens.admin;
    callers.operator = gw.tokens.operator;
    callers.viewer = gw.tokens.viewer;
    callers['operator of lab-a'] = await gw.login('operator-lab-a');
    callers['agent of lab-a'] = a.agentToken;
    callers['agent of lab-b'] = b.agentToken;
    callers['no token'] = null;
    callers['expired token'] = await gw.forgedToken({ groups: ['admin'], ttlSeconds: -5 });
    const { privateKey } = await generateKeyPair('RS256');
    callers['token from another issuer'] = await new SignJWT({ 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer('https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other')
      .setExpirationTime('1h')
      .sign(privateKey);
  }, 120_000);
  afterAll(() => cloud.close());

  /** The target of a call to `field` at `site`: power-request and boot-session fields get the site's own request or session id. */
  const targetFor = (field: string, site: string) => targets[/powerrequest/i.test(field) ? `${site} power` : /bootsession/i.test(field) ? `${site} session` : site]!;
  /** What in an answer shows an item of `site`: its name, and the ids of its boot configuration, power request and boot session. */
  const markersOf = (site: string) => [site, targets[site]!.ids.id!, targets[`${site} power`]!.ids.id!, targets[`${site} session`]!.ids.id!];

  /** Every item of lab-b, read straight from DynamoDB (a full scan: the table holds the two fixtures only). */
  const labBItems = async (): Promise<string> => {
    const out: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await gw.aws.clients.doc.send(new ScanCommand({ TableName: gw.aws.clients.config.tableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const json = JSON.stringify(item, Object.keys(item).sort());
        if (markersOf('lab-b').some((m) => json.includes(m))) out.push(JSON.stringify(item, (_k, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v)));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out.sort().join('\n');
  };

  it('docs/authorization.md is the matrix the manifests define (run `npm run docs:authz` after changing one)', () => {
    expect(readFileSync(new URL('../../../docs/authorization.md', import.meta.url), 'utf8')).toBe(authorizationMarkdown(domains));
  });

  it('every root field of the schema has a rule', () => {
    const fields = (['query', 'mutation'] as const).flatMap((k) => rootFields(k).map((f) => `${k === 'query' ? 'Query' : 'Mutation'}.${f.name}`));
    const ruled = new Set(authorizationRules(domains).map((r) => r.field));
    expect(fields.filter((f) => !ruled.has(f))).toEqual([]);
  });

  it("the seeded data is there: deployment-wide callers read lab-b's items through the same calls", async () => {
    let shown = 0;
    for (const field of rootFields('query')) {
      const res = await gw.gql(operationFor('query', field, targetFor(field.name, 'lab-b')), undefined, callers.admin);
      if (markersOf('lab-b').some((m) => JSON.stringify(res.data ?? null).includes(m))) shown += 1;
    }
    // component, componentByMac, components, group(s), partition(s), bootConfiguration(s), powerRequest, sites, site, cloudInitFor, …
    expect(shown).toBeGreaterThanOrEqual(10);
  }, 120_000);

  it('callers of lab-a read nothing of lab-b and write nothing of lab-b; the operator of lab-a gets FORBIDDEN naming lab-b for every mutation on it', async () => {
    const limited = ['operator of lab-a', 'agent of lab-a'];
    const problems: string[] = [];
    let reads = 0;
    let writes = 0;
    // Queries first (they change nothing), then mutations aimed at lab-b, then at lab-a itself.
    for (const [kind, site] of [['query', 'lab-b'], ['query', 'lab-a'], ['mutation', 'lab-b'], ['mutation', 'lab-a']] as const) {
      for (const field of rootFields(kind)) {
        const document = operationFor(kind, field, targetFor(field.name, site));
        for (const caller of limited) {
          const before = kind === 'mutation' ? await labBItems() : '';
          const res = await gw.gql(document, undefined, callers[caller]);
          const data = JSON.stringify(res.data ?? null);
          const leaked = markersOf('lab-b').filter((m) => data.includes(m));
          if (leaked.length) problems.push(`${caller} → ${document}: the answer holds lab-b's ${leaked.join(', ')}: ${data.slice(0, 300)}`);
          reads += 1;
          if (kind !== 'mutation') continue;
          writes += 1;
          if ((await labBItems()) !== before) problems.push(`${caller} → ${document}: lab-b's items changed`);
          if (caller === 'operator of lab-a' && site === 'lab-b') {
            const forbidden = (res.errors ?? []).find((e) => e.extensions?.code === 'FORBIDDEN');
            if (!forbidden || res.data?.[field.name as never] != null) problems.push(`${caller} → ${document}: expected FORBIDDEN, got ${JSON.stringify(res.errors ?? res.data).slice(0, 300)}`);
            else if (ruleOf(`Mutation.${field.name}`).scope === 'site' && ruleOf(`Mutation.${field.name}`).siteRoles.includes('operator') && !/site lab-b needs the .*operator/.test(forbidden.message)) {
              problems.push(`${caller} → ${field.name}: FORBIDDEN should name site lab-b and the role needed, says "${forbidden.message}"`);
            }
          }
        }
      }
    }
    expect(reads).toBeGreaterThan(100);
    expect(writes).toBeGreaterThan(50);
    expect(problems).toEqual([]);
  }, 600_000);

  it('answers each call with the documented outcome', async () => {
    const rules = new Map(authorizationRules(domains).map((r) => [r.field, r]));
    const mismatches: string[] = [];
    let calls = 0;
    const expectedFor = (caller: string, rule: FieldRule): 'UNAUTHENTICATED' | 'FORBIDDEN' | 'passes the gate' => {
      if (callers[caller] === null || caller === 'expired token' || caller === 'token from another issuer') return 'UNAUTHENTICATED';
      if (caller === 'operator of lab-a') return rule.siteRoles.includes('operator') ? 'passes the gate' : 'FORBIDDEN';
      const role = caller.startsWith('agent') ? 'agent' : caller;
      return (rule.roles as readonly string[]).includes(role) ? 'passes the gate' : 'FORBIDDEN';
    };
    for (const kind of ['query', 'mutation'] as const) {
      for (const field of rootFields(kind)) {
        const rule = rules.get(`${kind === 'query' ? 'Query' : 'Mutation'}.${field.name}`)!;
        // The callers of one field run together, each at its own site (people at lab-a); fields run one after another.
        await Promise.all(
          Object.entries(callers).map(async ([caller, token]) => {
            const document = operationFor(kind, field, targetFor(field.name, caller === 'agent of lab-b' ? 'lab-b' : 'lab-a'));
            const res = await gw.gql(document, undefined, token);
            calls += 1;
            const codes = codesOf(res);
            const expected = expectedFor(caller, rule);
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
