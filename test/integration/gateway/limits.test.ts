import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { LIMITS } from '../../../gateway/server.js';

/**
 * Abusive documents are refused during parsing/validation, so no resolver and no DynamoDB
 * call runs: the invoker's count must not move.
 */
describe('gateway limits (production mode)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ production: true });
  });
  afterAll(() => gw.close());

  async function refusedCheaply(body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
    const before = gw.invoker.count;
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.tokens.admin}`, ...headers },
      body,
    });
    const text = await res.text();
    expect(gw.invoker.count).toBe(before);
    return { status: res.status, text };
  }

  it('refuses a query nested 50 levels before any invoke', async () => {
    const deep = `{ __type(name: "Query") { ${'ofType { '.repeat(48)}name${' }'.repeat(48)} } }`;
    const res = await refusedCheaply(JSON.stringify({ query: deep }));
    expect(JSON.parse(res.text).errors[0].message).toMatch(/^query depth \d+ exceeds the limit of 12: nest fewer selections/);
  });

  it('refuses 1,000 aliases before any invoke', async () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: sites { name }`).join(' ');
    const res = await refusedCheaply(JSON.stringify({ query: `{ ${aliases} }` }));
    // 1,000 aliases also exceed the token limit, which the parser checks first.
    expect(JSON.parse(res.text).errors[0].message).toMatch(/^query has (more than 5000 tokens, the limit|1000 aliases, over the limit of 20)/);
  });

  it(`refuses ${LIMITS.maxAliases + 1} aliases (limit ${LIMITS.maxAliases}) by the alias rule`, async () => {
    const aliases = Array.from({ length: LIMITS.maxAliases + 1 }, (_, i) => `a${i}: sites { name }`).join(' ');
    const res = await refusedCheaply(JSON.stringify({ query: `{ ${aliases} }` }));
    expect(JSON.parse(res.text).errors[0].message).toBe(`query has ${LIMITS.maxAliases + 1} aliases, over the limit of ${LIMITS.maxAliases}: send fewer aliased fields per request`);
  });

  it('refuses a query whose nested pages would resolve too many fields, naming the cost, the limit and the costly part, before any invoke', async () => {
    const query = 'query($g: Int) { groups(first: $g) { edges { node { label members(first: 1000) { edges { node { xname nid } } } } } } }';
    const res = await refusedCheaply(JSON.stringify({ query, variables: { g: 100 } }));
    expect(res.status).toBe(400);
    const [e] = JSON.parse(res.text).errors;
    expect(e.message).toMatch(/^query cost [\d,]+ exceeds the limit of 50,000 fields resolved; the most costly part is groups /);
    expect(e.extensions).toMatchObject({ code: 'GRAPHQL_VALIDATION_FAILED', maxCost: LIMITS.maxCost });
    expect(e.extensions.cost).toBeGreaterThan(LIMITS.maxCost);
  });

  it('answers a page of 1,000 components with four fields, the largest page the docs allow', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.tokens.admin}` },
      body: JSON.stringify({ query: '{ components(first: 1000) { edges { node { xname nid role state } } pageInfo { hasNextPage endCursor } } }' }),
    });
    const body = (await res.json()) as { data?: { components: { edges: unknown[] } }; errors?: unknown[] };
    expect(body.errors).toBeUndefined();
    expect(Array.isArray(body.data?.components.edges)).toBe(true);
  });

  it('refuses a 10 MB body with 413 before parsing it', async () => {
    const big = JSON.stringify({ query: '{ sites { name } }', variables: { pad: 'x'.repeat(10 * 1024 * 1024) } });
    const res = await refusedCheaply(big);
    expect(res.status).toBe(413);
    expect(res.text).toMatch(/exceeds 10485760 bytes \(API Gateway's body limit\)/);
  });

  it("refuses a 7 MB body (under API Gateway's 10 MB) with 413: the gateway Lambda's event would exceed 6 MB", async () => {
    const big = JSON.stringify({ query: '{ sites { name } }', variables: { pad: 'x'.repeat(7 * 1000 * 1000) } });
    const res = await refusedCheaply(big);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).errors[0].message).toMatch(/^request exceeds Lambda's 6291456-byte invoke payload limit: the gateway event would be 700\d{4} bytes$/);
  });

  it("answers 502 when the gateway Lambda's own result would exceed 6 MB, though every domain invoke fits", async () => {
    // 20 cloud-init scripts of 127 Ki double quotes (under the 256 KiB limit once JSON-escaped), one variable: the body is 256 KB, each
    // domain answer 256 KB (a quote is 2 bytes in JSON), the GraphQL answer 5 MB, and the
    // gateway Lambda's result, which carries that answer as a JSON string, 10 MB.
    const script = '"'.repeat(127 * 1024);
    const fields = Array.from({ length: 20 }, (_, i) => `c${i}: setCloudInit(input: { group: "quoted-${i}", userData: $u }) { userData }`).join(' ');
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${gw.tokens.admin}` },
      body: JSON.stringify({ query: `mutation($u: String!) { ${fields} }`, variables: { u: script } }),
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as { message: string; errors: { message: string; extensions: { code: string; bytes: number } }[] };
    expect(body.message).toBe('Internal Server Error');
    expect(body.errors[0]!.message).toMatch(/^response exceeds Lambda's 6291556-byte response payload limit: the gateway result would be \d+ bytes$/);
    expect(body.errors[0]!.extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(body.errors[0]!.extensions.bytes).toBeGreaterThan(10_000_000);
  });

  it('refuses a batched array of operations', async () => {
    const res = await refusedCheaply(JSON.stringify([{ query: '{ sites { name } }' }, { query: '{ sites { name } }' }]));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/batch/i);
  });

  it('refuses introspection for a viewer in production, allows it for an admin', async () => {
    const before = gw.invoker.count;
    const viewer = await gw.gql('{ __schema { queryType { name } } }', undefined, gw.tokens.viewer);
    expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const admin = await gw.gql<{ __schema: { queryType: { name: string } } }>('{ __schema { queryType { name } } }', undefined, gw.tokens.admin);
    expect(admin.data?.__schema.queryType.name).toBe('Query');
    expect(gw.invoker.count).toBe(before);
  });

  it('keeps CSRF prevention on: a simple GET without a preflight header is refused', async () => {
    const res = await fetch(`${gw.url}/graphql?query=${encodeURIComponent('{ whoami { subject } }')}`, {
      headers: { authorization: `Bearer ${gw.tokens.admin}` },
    });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/i);
  });
});
