/** `skyboot site create|list`: sites and their agent credentials. */
import type { Command } from 'commander';
import type { CliIo } from './imageCommands.js';
import { table } from './output.js';
import { CliError, DEFAULT_URL } from './client.js';
import { agentClientConfig } from '../schema/agentClientConfig.js';

const DEFAULT_SECRET_FILE = '/etc/skyboot-agent/client.secret';

interface SiteJson {
  name: string;
  description: string | null;
  domain: string | null;
  createdAt: string;
}

interface Credentials {
  clientId: string;
  clientSecret: string | null;
  tokenEndpoint: string | null;
  token: string | null;
  scopes: string[];
}

export function registerSiteCommands(program: Command, io: CliIo): void {
  const site = program.command('site').description('sites and their agent credentials (admin)');

  site
    .command('create <name>')
    .description("create a site and its agent's OAuth client; prints the agent's config file, and the secret once, here")
    .option('--description <text>', 'what the site is')
    .option('--domain <dns>', "the site's DNS domain (iSCSI SRV records, target names)")
    .option('--secret-file <path>', 'where the agent will read its client secret', DEFAULT_SECRET_FILE)
    .option('--json', 'print the result as JSON (with agentConfig)')
    .action(async (name: string, opts: { description?: string; domain?: string; secretFile: string; json?: boolean }) => {
      const out = await io.gql<{ createSite: { site: SiteJson; agentCredentials: Credentials } }>(
        'mutation($i: CreateSiteInput!) { createSite(input: $i) { site { name description domain createdAt } agentCredentials { clientId clientSecret tokenEndpoint token scopes } } }',
        { i: { name, ...(opts.description ? { description: opts.description } : {}), ...(opts.domain ? { domain: opts.domain } : {}) } },
      );
      const { site: s, agentCredentials: c } = out.createSite;
      if (!c.tokenEndpoint) throw new CliError(`site ${s.name} was created, but the API returned no token endpoint for its agent client ${c.clientId}`);
      const config = agentClientConfig({ ...c, tokenEndpoint: c.tokenEndpoint }, { cloud: io.apiUrl ?? DEFAULT_URL, clientSecretFile: opts.secretFile });
      if (opts.json) return io.out(JSON.stringify({ ...out.createSite, agentConfig: config }, null, 2));
      io.out(`site ${s.name} created; agent client id ${c.clientId}, scopes ${c.scopes.join(' ')}`);
      if (c.clientSecret) {
        io.out(`1. Store the client secret (shown only now) on the agent host, readable by the agent only:`);
        io.out(`   install -m 0600 /dev/stdin ${opts.secretFile} <<<'${c.clientSecret}'`);
      }
      io.out(`2. The agent's config file (e.g. /etc/skyboot-agent/agent.json; add the site's DHCP/TFTP/iSCSI keys):`);
      io.out(JSON.stringify(config, null, 2));
    });

  site
    .command('list')
    .description('list sites')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = await io.gql<{ sites: SiteJson[] }>('{ sites { name description domain createdAt } }');
      if (opts.json) return io.out(JSON.stringify(out.sites, null, 2));
      table([['NAME', 'DOMAIN', 'CREATED', 'DESCRIPTION'], ...out.sites.map((s) => [s.name, s.domain ?? '-', s.createdAt, s.description ?? ''])], io.out);
    });
}
