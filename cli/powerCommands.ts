/**
 * `skyboot power on|off|soft-off|reset|cycle|status|pxe-once <targets>`: one request to the
 * site's agent, then (unless --no-wait) a wait for its results with a progress line;
 * `skyboot power show <id>` reads a request back; `skyboot power list` lists a site's, newest first.
 */
import type { Command } from 'commander';
import { CliError } from './client.js';
import type { CliIo } from './imageCommands.js';
import { render, withOutput, type Column, type OutputOptions } from './output.js';
import { enumValue, intValue, siteOption } from './options.js';
import { allPages, type Connection } from './paging.js';
import { statusLine, formatDuration } from './progress.js';
import { resolveTargets } from './targets.js';

const REQUEST = 'id site action xnames status requestedBy createdAt claimedAt completedAt results { xname ok powerState bootOverride error }';

interface PowerResult {
  xname: string;
  ok: boolean;
  powerState: string | null;
  bootOverride: string | null;
  error: string | null;
}
export interface PowerRequestJson {
  id: string;
  site: string;
  action: string;
  xnames: string[];
  status: string;
  requestedBy: string;
  createdAt: string;
  claimedAt: string | null;
  completedAt: string | null;
  results: PowerResult[];
}

const RESULT_COLUMNS: Column<PowerResult>[] = [
  { header: 'XNAME', value: (r) => r.xname },
  { header: 'OK', value: (r) => r.ok },
  { header: 'POWER', value: (r) => r.powerState },
  { header: 'OVERRIDE', value: (r) => r.bootOverride },
  { header: 'ERROR', value: (r) => r.error },
];

export const REQUEST_COLUMNS: Column<PowerRequestJson>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'ACTION', value: (r) => r.action },
  { header: 'STATUS', value: (r) => r.status },
  { header: 'NODES', value: (r) => r.xnames.length },
  { header: 'FAILED', value: (r) => r.results.filter((x) => !x.ok).length },
  { header: 'CREATED', value: (r) => r.createdAt },
  { header: 'SITE', value: (r) => r.site, wide: true },
  { header: 'BY', value: (r) => r.requestedBy, wide: true },
  { header: 'COMPLETED', value: (r) => r.completedAt, wide: true },
];

const REQUEST_STATUSES = ['PENDING', 'RUNNING', 'DONE'] as const;

const ACTIONS = { on: 'ON', off: 'OFF', 'soft-off': 'SOFT_OFF', reset: 'RESET', cycle: 'CYCLE', status: 'STATUS', 'pxe-once': 'PXE_ONCE' } as const;
const HELP: Record<keyof typeof ACTIONS, string> = {
  on: 'power nodes on',
  off: 'force nodes off',
  'soft-off': 'graceful shutdown where the BMC offers it, else force off',
  reset: 'reset nodes',
  cycle: 'power-cycle nodes (off then on where the BMC has no cycle)',
  status: "read nodes' power state",
  'pxe-once': 'set a one-time PXE boot override, read back to confirm',
};

type Opts = OutputOptions & { site?: string; wait: boolean; timeout: number; interval: number };

async function getRequest(io: CliIo, id: string): Promise<PowerRequestJson> {
  const { powerRequest: r } = await io.gql<{ powerRequest: PowerRequestJson | null }>(`query($id: ID!) { powerRequest(id: $id) { ${REQUEST} } }`, { id });
  if (!r) throw new CliError(`power request ${id} not found`);
  return r;
}

/** Polls until DONE; the line says how many nodes have results. Timeout: exit 1, naming the request to look at later. */
async function waitFor(io: CliIo, first: PowerRequestJson, timeoutSeconds: number, intervalMs: number): Promise<PowerRequestJson> {
  const line = statusLine(io.tty);
  const start = Date.now();
  let r = first;
  try {
    while (r.status !== 'DONE') {
      const elapsed = (Date.now() - start) / 1000;
      line.update(`power ${r.action} ${r.id}: ${r.status} ${r.results.length}/${r.xnames.length} ${formatDuration(elapsed)}`);
      if (elapsed > timeoutSeconds) throw new CliError(`power request ${r.id} still ${r.status} after ${timeoutSeconds} s (is the site's agent running?); check later with \`skyboot power show ${r.id}\``);
      await new Promise((res) => setTimeout(res, intervalMs));
      r = await getRequest(io, r.id);
    }
  } finally {
    line.done();
  }
  return r;
}

export function registerPowerCommands(program: Command, io: CliIo): void {
  const power = program.command('power').description('power and one-time PXE through the site agent and the nodes\' BMCs');

  for (const [verb, action] of Object.entries(ACTIONS) as [keyof typeof ACTIONS, string][]) {
    withOutput(siteOption(power.command(`${verb} <targets...>`)))
      .description(`${HELP[verb]} (targets: xnames, hostlists, nid[1-4], @group, role:compute)`)
      .option('--no-wait', 'print the request id and return without waiting for results')
      .option('--timeout <seconds>', 'how long to wait for the results, in seconds', intValue, 300)
      .option('--interval <ms>', 'poll interval, in milliseconds', intValue, 1000)
      .action(async (targets: string[], o: Opts) => {
        const { xnames, unmatched } = await resolveTargets(io.gql, targets, o.site);
        for (const u of unmatched) io.err(`warning: ${u} matches no component`);
        if (!xnames.length) throw new CliError('no nodes to act on');
        const { requestPower } = await io.gql<{ requestPower: PowerRequestJson[] }>(
          `mutation($x: [XName!]!, $a: PowerAction!, $site: String) { requestPower(xnames: $x, action: $a, site: $site) { ${REQUEST} } }`,
          { x: xnames, a: action, site: o.site ?? null },
        );
        if (!o.wait) {
          io.err(`power ${action}: request(s) ${requestPower.map((r) => r.id).join(', ')} queued for ${xnames.length} node(s)`);
          return render(requestPower, REQUEST_COLUMNS, o, io.out);
        }
        const done = await Promise.all(requestPower.map((r) => waitFor(io, r, o.timeout, o.interval)));
        const results = done.flatMap((r) => r.results);
        await render(results, RESULT_COLUMNS, o, io.out);
        const failed = results.filter((r) => !r.ok);
        if (failed.length) throw new CliError(`power ${action}: ${failed.length} of ${results.length} node(s) failed`);
      });
  }

  withOutput(power.command('show <id>'))
    .description('one power request and its results')
    .action(async (id: string, o: OutputOptions) => {
      const r = await getRequest(io, id);
      if (o.output === 'json' || o.output === 'yaml' || o.json) return render([r], REQUEST_COLUMNS, o, io.out, true);
      io.err(`${r.id}: ${r.action} ${r.status}, ${r.results.length}/${r.xnames.length} results, requested by ${r.requestedBy} at ${r.createdAt}`);
      await render(r.results, RESULT_COLUMNS, o, io.out);
    });
  withOutput(siteOption(power.command('list')))
    .description("the site's power requests, newest first")
    .option('--status <status>', 'only requests in this status: pending, running, done', enumValue(REQUEST_STATUSES))
    .option('--limit <n>', 'at most this many requests', intValue, 50)
    .action(async (o: OutputOptions & { site?: string; status?: string; limit: number }) => {
      if (o.limit < 1) throw new CliError(`--limit ${o.limit}: name at least 1`);
      const rows = await allPages<PowerRequestJson, { powerRequests: Connection<PowerRequestJson> }>(
        io.gql,
        `query($site: String, $status: CommandStatus, $first: Int, $after: String) { powerRequests(site: $site, status: $status, first: $first, after: $after) { edges { node { ${REQUEST} } } pageInfo { hasNextPage endCursor } } }`,
        { site: o.site ?? null, status: o.status ?? null },
        (d) => d.powerRequests,
        Math.min(100, o.limit),
        o.limit,
      );
      await render(rows.slice(0, o.limit), REQUEST_COLUMNS, o, io.out);
    });
}
