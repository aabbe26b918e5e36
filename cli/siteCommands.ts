/** `skyboot site create|list`: sites and their agent credentials. */
import type { Command } from 'commander';
import type { CliIo } from './imageCommands.js';
import { table } from './output.js';

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
    .description('create a site and its agent credentials; the secret is printed once, here')
    .option('--description <text>', 'what the site is')
    .option('--domain <dns>', "the site's DNS domain (iSCSI SRV records, target names)")
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { description?: string; domain?: string; json?: boolean }) => {
      const out = await io.gql<{ createSite: { site: SiteJson; agentCredentials: Credentials } }>(
        'mutation($i: CreateSiteInput!) { createSite(input: $i) { site { name description domain createdAt } agentCredentials { clientId clientSecret tokenEndpoint token scopes } } }',
        { i: { name, ...(opts.description ? { description: opts.description } : {}), ...(opts.domain ? { domain: opts.domain } : {}) } },
      );
      const { site: s, agentCredentials: c } = out.createSite;
      if (opts.json) return io.out(JSON.stringify(out.createSite, null, 2));
      io.out(`site ${s.name} created`);
      io.out(`agent client id: ${c.clientId}`);
      if (c.clientSecret) io.out(`agent client secret: ${c.clientSecret}   (shown only now: store it in the agent's token file config)`);
      if (c.tokenEndpoint) io.out(`token endpoint: ${c.tokenEndpoint}   scopes: ${c.scopes.join(' ')}`);
      if (c.token) io.out(`agent token: ${c.token}`);
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
