import { decodeJwt, generateKeyPair, SignJWT } from 'jose';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { clientCredentialsToken } from '../../support/oauthBrowser.js';

describe('gateway authentication and roles', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway({ users: [{ username: 'op-lab-a', groups: ['operator@lab-a'] }] });
  });
  afterAll(() => gw.close());

  const whoami = '{ whoami { subject roles site } }';

  it('refuses a request without a token as UNAUTHENTICATED with status 401', async () => {
    const res = await gw.gql(whoami, undefined, null);
    expect(res.status).toBe(401);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0]?.message).toMatch(/missing bearer token/);
  });

  it('refuses a malformed Authorization header', async () => {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic abc' },
      body: JSON.stringify({ query: whoami }),
    });
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(res.status).toBe(401);
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an expired token', async () => {
    const expired = await gw.forgedToken({ groups: ['admin'], ttlSeconds: -60 });
    const res = await gw.gql(whoami, undefined, expired);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0]?.message).toMatch(/exp/);
  });

  it('refuses a token signed by another key, even with our issuer', async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT({ 'cognito:groups': ['admin'] })
      .setProtectedHeader({ alg: 'RS256', kid: (await (await fetch(gw.auth.jwksUri)).json() as { keys: { kid: string }[] }).keys[0]!.kid })
      .setIssuer(gw.auth.issuer)
      .setExpirationTime('1h')
      .sign(privateKey);
    const res = await gw.gql(whoami, undefined, forged);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a token from another issuer signed with our key', async () => {
    const other = await gw.forgedToken({ groups: ['admin'], issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/other' });
    const res = await gw.gql(whoami, undefined, other);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(res.errors?.[0]?.message).toMatch(/iss/);
  });

  it('refuses a token with no Skyboot role', async () => {
    const none = await gw.forgedToken({ groups: [] });
    const res = await gw.gql(whoami, undefined, none);
    expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('issues access tokens with the claims Cognito puts in them', async () => {
    const person = decodeJwt(gw.tokens.operator);
    expect(person).toMatchObject({ iss: gw.auth.issuer, token_use: 'access', client_id: 'skyboot-cli', username: 'operator', 'cognito:groups': ['operator'], sub: 'operator' });
    expect((person.exp ?? 0) - (person.iat ?? 0)).toBe(gw.auth.tokenTtlSeconds);
    expect(decodeJwt(await gw.login('op-lab-a'))).toMatchObject({ username: 'op-lab-a', 'cognito:groups': ['operator@lab-a'] });
    const agent = decodeJwt(await gw.agentToken('alpha'));
    expect(agent).toMatchObject({ iss: gw.auth.issuer, token_use: 'access', scope: 'skyboot/agent skyboot/site.alpha' });
    expect(agent.client_id).toBe(agent.sub);
    expect(agent['cognito:groups']).toBeUndefined();
  });

  it('reads per-site roles from groups role@site: the local dev users operator-lab-a and viewer-lab-b', async () => {
    for (const [user, siteRoles] of [['operator-lab-a', ['operator@lab-a']], ['viewer-lab-b', ['viewer@lab-b']]] as const) {
      const res = await gw.gql<{ whoami: { subject: string; roles: string[]; siteRoles: string[] } }>('{ whoami { subject roles siteRoles } }', undefined, await gw.login(user));
      expect(res.data?.whoami).toEqual({ subject: user, roles: [], siteRoles });
    }
  });

  it('reads roles from cognito:groups and the agent site from its scope', async () => {
    const viewer = await gw.gql<{ whoami: { roles: string[]; site: string | null } }>(whoami, undefined, gw.tokens.viewer);
    expect(viewer.data?.whoami).toEqual({ subject: 'viewer', roles: ['viewer'], site: null });
    const agent = await gw.gql<{ whoami: { roles: string[]; site: string | null } }>(whoami, undefined, await gw.agentToken('alpha'));
    expect(agent.data?.whoami).toMatchObject({ roles: ['agent'], site: 'alpha' });
  });

  it('lets only admins create sites: viewer and operator get FORBIDDEN, and nothing is written', async () => {
    const mutation = 'mutation($n: String!) { createSite(input: { name: $n }) { site { name } agentCredentials { clientId token scopes } } }';
    for (const tok of [gw.tokens.viewer, gw.tokens.operator]) {
      const res = await gw.gql(mutation, { n: 'denied' }, tok);
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
    const sites = await gw.gql<{ sites: { name: string }[] }>('{ sites { name } }');
    expect(sites.data?.sites.map((s) => s.name)).not.toContain('denied');
  });

  it('creates a site whose agent client gets a token (client credentials) that sees only that site', async () => {
    type Created = { createSite: { agentCredentials: { clientId: string; clientSecret: string; tokenEndpoint: string; token: string | null; scopes: string[] } } };
    const mutation = 'mutation($n: String!) { createSite(input: { name: $n }) { site { name } agentCredentials { clientId clientSecret tokenEndpoint token scopes } } }';
    const a = await gw.gql<Created>(mutation, { n: 'site-a' });
    const b = await gw.gql<Created>(mutation, { n: 'site-b' });
    expect(a.errors).toBeUndefined();
    expect(b.errors).toBeUndefined();
    const creds = a.data!.createSite.agentCredentials;
    expect(creds.scopes).toEqual(['skyboot/agent', 'skyboot/site.site-a']);
    // The sites domain hands out a client, never a token it signed itself.
    expect(creds.token).toBeNull();
    expect(creds.tokenEndpoint).toBe(gw.auth.tokenEndpoint);
    const agentA = await clientCredentialsToken(creds.tokenEndpoint, creds.clientId, creds.clientSecret);
    const seen = await gw.gql<{ sites: { name: string }[]; other: null | { name: string } }>('{ sites { name } other: site(name: "site-b") { name } }', undefined, agentA);
    expect(seen.data?.sites.map((s) => s.name)).toEqual(['site-a']);
    expect(seen.data?.other).toBeNull();
    // Site A's client may not ask for site B's scope.
    await expect(clientCredentialsToken(creds.tokenEndpoint, creds.clientId, creds.clientSecret, 'skyboot/agent skyboot/site.site-b')).rejects.toThrow(/invalid_scope/);
    await expect(clientCredentialsToken(creds.tokenEndpoint, creds.clientId, 'wrong-secret')).rejects.toThrow(/invalid_client/);
  });

  it('rejects a duplicate site as CONFLICT and a bad name as BAD_USER_INPUT naming the field', async () => {
    const mutation = 'mutation($n: String!) { createSite(input: { name: $n }) { site { name } } }';
    await gw.gql(mutation, { n: 'dup' });
    const again = await gw.gql(mutation, { n: 'dup' });
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const bad = await gw.gql(mutation, { n: 'Bad Name!' });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(bad.errors?.[0]?.message).toContain('input.name');
  });
});
