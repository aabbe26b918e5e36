import { graphqlClient } from '../../../cli/client.js';
import { runCli } from '../../../cli/program.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

describe('skyboot site create|list against the gateway', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.close());

  async function cli(args: string[], token = gw.tokens.admin) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql: graphqlClient({ url: `${gw.url}/graphql`, token }), out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    return { code, out, err };
  }

  it('creates a site and prints its agent credentials once; the token works as that site agent', async () => {
    const made = await cli(['site', 'create', 'lab-c', '--domain', 'lab-c.example.org', '--json']);
    expect(made.code).toBe(0);
    const created = JSON.parse(made.out.join('\n')) as { site: { name: string; domain: string }; agentCredentials: { token: string; scopes: string[] } };
    expect(created.site).toMatchObject({ name: 'lab-c', domain: 'lab-c.example.org' });
    expect(created.agentCredentials.scopes).toEqual(['skyboot/agent', 'skyboot/site.lab-c']);
    const who = await gw.gql<{ whoami: { roles: string[]; site: string } }>('{ whoami { roles site } }', undefined, created.agentCredentials.token);
    expect(who.data?.whoami).toEqual({ roles: ['agent'], site: 'lab-c' });

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
