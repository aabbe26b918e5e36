/** `skyboot redfish-endpoint list|show|upsert|delete`: the BMCs a site's agent walks. */
import type { Command } from 'commander';
import { CliError } from './client.js';
import type { CliIo } from './imageCommands.js';
import { render, withOutput, type Column, type OutputOptions } from './output.js';
import { allPages, type Connection } from './paging.js';
import { defined, DISCOVERY_STATUSES, enumValue, siteOption } from './options.js';

const ENDPOINT = 'xname type address credentialsRef enabled discoveryStatus lastDiscoveredAt lastDiscoveryError site version updatedAt';

interface EndpointJson {
  xname: string;
  type: string;
  address: string;
  credentialsRef: string | null;
  enabled: boolean;
  discoveryStatus: string;
  lastDiscoveredAt: string | null;
  lastDiscoveryError: string | null;
  site: string;
  version: number;
  updatedAt: string;
}

const COLUMNS: Column<EndpointJson>[] = [
  { header: 'XNAME', value: (e) => e.xname },
  { header: 'ADDRESS', value: (e) => e.address },
  { header: 'ENABLED', value: (e) => e.enabled },
  { header: 'DISCOVERY', value: (e) => e.discoveryStatus },
  { header: 'LAST DISCOVERED', value: (e) => e.lastDiscoveredAt },
  { header: 'TYPE', value: (e) => e.type, wide: true },
  { header: 'CREDENTIALS', value: (e) => e.credentialsRef, wide: true },
  { header: 'ERROR', value: (e) => e.lastDiscoveryError, wide: true },
  { header: 'SITE', value: (e) => e.site, wide: true },
  { header: 'VERSION', value: (e) => e.version, wide: true },
];

type Opts = OutputOptions & Record<string, unknown>;

export function registerRedfishCommands(program: Command, io: CliIo): void {
  const rf = program.command('redfish-endpoint').description('Redfish endpoints (BMCs): list, show, upsert, delete');

  withOutput(siteOption(rf.command('list')))
    .description("a site's Redfish endpoints")
    .option('--status <status>', `discovery status: ${DISCOVERY_STATUSES.join(', ').toLowerCase()}`, enumValue(DISCOVERY_STATUSES))
    .action(async (o: Opts) => {
      const rows = await allPages<EndpointJson, { redfishEndpoints: Connection<EndpointJson> }>(
        io.gql,
        `query($filter: RedfishEndpointFilter, $first: Int, $after: String) { redfishEndpoints(filter: $filter, first: $first, after: $after) { edges { node { ${ENDPOINT} } } pageInfo { hasNextPage endCursor } } }`,
        { filter: defined({ site: o.site, discoveryStatus: o.status }) },
        (d) => d.redfishEndpoints,
      );
      await render(rows, COLUMNS, o, io.out);
    });

  withOutput(siteOption(rf.command('show <xname>')))
    .description('one endpoint, every column')
    .action(async (xname: string, o: Opts) => {
      const { redfishEndpoint: e } = await io.gql<{ redfishEndpoint: EndpointJson | null }>(`query($x: XName!, $site: String) { redfishEndpoint(xname: $x, site: $site) { ${ENDPOINT} } }`, { x: xname, site: o.site ?? null });
      if (!e) throw new CliError(`Redfish endpoint ${xname} not found`);
      await render([e], COLUMNS, { ...o, output: o.output === 'table' ? 'wide' : o.output }, io.out, true);
    });

  withOutput(siteOption(rf.command('upsert <xname>')))
    .description('create or update an endpoint (the BMC xname, e.g. x1000c0s0b0)')
    .requiredOption('--address <host[:port]>', 'where the agent reaches the BMC')
    .option('--credentials-ref <ref>', "reference to the credentials in the site's secret store (never the secret)")
    .option('--disable', 'stored disabled: the agent does not walk it')
    .action(async (xname: string, o: Opts) => {
      const input = defined({ xname, address: o.address, credentialsRef: o.credentialsRef, enabled: o.disable ? false : undefined, site: o.site });
      const { upsertRedfishEndpoints: rows } = await io.gql<{ upsertRedfishEndpoints: EndpointJson[] }>(`mutation($input: [RedfishEndpointInput!]!) { upsertRedfishEndpoints(input: $input) { ${ENDPOINT} } }`, { input: [input] });
      await render(rows, COLUMNS, o, io.out, true);
    });

  siteOption(rf.command('delete <xname>'))
    .description('delete an endpoint')
    .action(async (xname: string, o: Opts) => {
      await io.gql('mutation($x: XName!, $site: String) { deleteRedfishEndpoint(xname: $x, site: $site) }', { x: xname, site: o.site ?? null });
      io.err(`deleted Redfish endpoint ${xname}`);
    });
}
