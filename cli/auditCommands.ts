/** `skyboot audit`: who changed what, newest first (admins). */
import type { Command } from 'commander';
import type { CliIo } from './imageCommands.js';
import { render, withOutput, type Column, type OutputOptions } from './output.js';
import { allPages, type Connection } from './paging.js';
import { intValue, siteOption } from './options.js';

interface AuditJson {
  id: string;
  at: string;
  actor: string;
  roles: string[];
  site: string | null;
  requestId: string;
  operation: string;
  target: string;
  before: string | null;
  after: string | null;
  part: number | null;
  parts: number | null;
}

const COLUMNS: Column<AuditJson>[] = [
  { header: 'AT', value: (a) => a.at },
  { header: 'ACTOR', value: (a) => a.actor },
  { header: 'OPERATION', value: (a) => a.operation },
  { header: 'TARGET', value: (a) => a.target },
  { header: 'SITE', value: (a) => a.site },
  { header: 'ROLES', value: (a) => a.roles.join(' '), wide: true },
  { header: 'REQUEST', value: (a) => a.requestId, wide: true },
  { header: 'BEFORE', value: (a) => a.before, wide: true },
  { header: 'AFTER', value: (a) => a.after, wide: true },
];

export function registerAuditCommands(program: Command, io: CliIo): void {
  withOutput(siteOption(program.command('audit')))
    .description('audit records, newest first: of one --target (its whole history), a --site, or everything (admins only)')
    .option('--target <target>', 'e.g. component:x1000c0s0b0n0 as the records name it')
    .option('--from <datetime>', 'ISO 8601 start (default: 31 days ago)')
    .option('--to <datetime>', 'ISO 8601 end (default: now)')
    .option('--limit <n>', 'at most this many records', intValue, 50)
    .action(async (o: OutputOptions & { site?: string; target?: string; from?: string; to?: string; limit: number }) => {
      const rows = await allPages<AuditJson, { auditLog: Connection<AuditJson> }>(
        io.gql,
        'query($target: String, $site: String, $from: DateTime, $to: DateTime, $first: Int, $after: String) { auditLog(target: $target, site: $site, from: $from, to: $to, first: $first, after: $after) { edges { node { id at actor roles site requestId operation target before after part parts } } pageInfo { hasNextPage endCursor } } }',
        { target: o.target ?? null, site: o.site ?? null, from: o.from ?? null, to: o.to ?? null },
        (d) => d.auditLog,
        Math.min(100, o.limit),
        o.limit,
      );
      await render(rows.slice(0, o.limit), COLUMNS, o, io.out);
    });
}
