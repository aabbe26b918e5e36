import { graphqlClient } from '../../../cli/client.js';
import { runCli } from '../../../cli/program.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { clientCredentialsToken } from '../../support/oauthBrowser.js';
import { resolveConfig } from '../../../onprem-agent/config.js';

describe('skyboot site create|list against the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  async function cli(args: string[], token = gw.tokens.admin) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql: graphqlClient({ url: `${gw.url}/graphql`, token }), apiUrl: `${gw.url}/graphql`, out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    return { code, out, err };
  }

  it('creates a site and prints a ready agent config; its client credentials get a token that acts as that site agent', async () => {
    const made = await cli(['site', 'create', 'lab-c', '--domain', 'lab-c.example.org', '--secret-file', '/etc/skyboot-agent/lab-c.secret', '--json']);
    expect(made.code).toBe(0);
    type Made = { site: { name: string; domain: string }; agentCredentials: { clientSecret: string; token: string | null; scopes: string[] }; agentConfig: Record<string, string> };
    const created = JSON.parse(made.out.join('\n')) as Made;
    expect(created.site).toMatchObject({ name: 'lab-c', domain: 'lab-c.example.org' });
    expect(created.agentCredentials.scopes).toEqual(['skyboot/agent', 'skyboot/site.lab-c']);
    expect(created.agentCredentials.token).toBeNull();
    const config = created.agentConfig;
    expect(config).toEqual({ cloud: `${gw.url}/graphql`, tokenEndpoint: gw.auth.tokenEndpoint, clientId: expect.any(String), clientSecretFile: '/etc/skyboot-agent/lab-c.secret', scope: 'skyboot/agent skyboot/site.lab-c' });
    // The agent config loader accepts the printed file as it is.
    expect(resolveConfig(config).clientCredentials).toMatchObject({ clientId: config.clientId, scope: config.scope });
    const token = await clientCredentialsToken(config.tokenEndpoint!, config.clientId!, created.agentCredentials.clientSecret, config.scope);
    const who = await gw.gql<{ whoami: { roles: string[]; site: string } }>('{ whoami { roles site } }', undefined, token);
    expect(who.data?.whoami).toEqual({ roles: ['agent'], site: 'lab-c' });

    const human = await cli(['site', 'create', 'lab-f']);
    expect(human.code).toBe(0);
    expect(human.out.join('\n')).toMatch(/client secret \(shown only now\)/);
    expect(human.out.join('\n')).toContain(`"tokenEndpoint": "${gw.auth.tokenEndpoint}"`);

    const listed = await cli(['site', 'list']);
    expect(listed.out.join('\n')).toMatch(/lab-c\s+lab-c\.example\.org/);
  });

  it('refuses an operator (admin only) and a duplicate name, with exit code 1 and the reason', async () => {
    const op = await cli(['site', 'create', 'lab-d'], gw.tokens.operator);
    expect(op.code).toBe(1);
    expect(op.err.join('\n')).toMatch(/FORBIDDEN|needs the admin role/);
    await cli(['site', 'create', 'lab-e']);
    const dup = await cli(['site', 'create', 'lab-e']);
    expect(dup.code).toBe(1);
    expect(dup.err.join('\n')).toMatch(/already exists/);
  });
});
