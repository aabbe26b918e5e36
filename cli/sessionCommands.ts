/** `skyboot template put|show|list`, `skyboot session create|show|list|pause|resume|cancel|watch`, `skyboot stage apply`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from './client.js';
import type { CliIo } from './imageCommands.js';
import { table } from './output.js';
import { barText, formatDuration } from './progress.js';
import type { BootSessionCounts } from '../schema/bootSessionCounts.js';

const TEMPLATE = 'name site description version updatedAt bootSets { name imageId kernelParameters rootfsProvider arch xnames groups roles }';
const COUNTS = 'counts { total pending waiting inProgress succeeded failed rolledBack staged superseded }';
const SESSION = `id site template templateVersion operation limit stage maxConcurrent canary maxFailures bootTimeoutSeconds rollback respectWorkload status statusReason ${COUNTS} createdAt endedAt`;

type Counts = BootSessionCounts;
interface SessionJson {
  id: string;
  template: string;
  operation: string;
  status: string;
  statusReason: string | null;
  counts: Counts;
  createdAt: string;
  maxConcurrent: number;
}

const TERMINAL = ['COMPLETE', 'FAILED', 'CANCELLED'];

function countsText(c: Counts): string {
  return `total ${c.total}  pending ${c.pending}  waiting ${c.waiting}  in progress ${c.inProgress}  succeeded ${c.succeeded}  failed ${c.failed}  rolled back ${c.rolledBack}  staged ${c.staged}${c.superseded ? `  superseded ${c.superseded}` : ''}`;
}

/** Nodes that reached an end (the bar's progress). */
const settled = (c: Counts) => c.succeeded + c.failed + c.rolledBack + c.superseded;

/** A Slurm-style hostlist or comma list: x1000c0s[0-3]b0n0,x1001c0s0b0n0. */
export function expandHostlist(text: string): string[] {
  const out: string[] = [];
  for (const part of text.split(/,(?![^[]*\])/).map((p) => p.trim()).filter(Boolean)) {
    const m = /^(.*)\[([^\]]+)\](.*)$/.exec(part);
    if (!m) {
      out.push(part);
      continue;
    }
    for (const r of m[2]!.split(',')) {
      const [a, b] = r.split('-');
      if (b === undefined) {
        out.push(`${m[1]}${a}${m[3]}`);
        continue;
      }
      const width = a!.length;
      for (let i = Number(a); i <= Number(b); i++) out.push(`${m[1]}${String(i).padStart(width, '0')}${m[3]}`);
    }
  }
  return out;
}

export function registerSessionCommands(program: Command, io: CliIo): void {
  const template = program.command('template').description('boot templates (BOS session templates): put, show, list');
  template
    .command('put <file>')
    .description('create or replace a template from a JSON BootTemplateInput file ({ name, description, site, bootSets: [...] })')
    .option('--expected-version <n>', 'refuse (CONFLICT) unless the stored version is n (0: must not exist)')
    .option('--json')
    .action(async (file: string, o: { expectedVersion?: string; json?: boolean }) => {
      let input: unknown;
      try {
        input = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        throw new CliError(`${file}: ${(err as Error).message}`, { exitCode: 2 });
      }
      const v = o.expectedVersion === undefined ? null : Number(o.expectedVersion);
      const { putBootTemplate: t } = await io.gql<{ putBootTemplate: { name: string; version: number } }>(`mutation($i: BootTemplateInput!, $v: Int) { putBootTemplate(input: $i, expectedVersion: $v) { ${TEMPLATE} } }`, { i: input, v });
      if (o.json) return io.out(JSON.stringify(t));
      io.out(`template ${t.name} version ${t.version}`);
    });
  template
    .command('show <name>')
    .option('--site <site>')
    .option('--json')
    .action(async (name: string, o: { site?: string; json?: boolean }) => {
      const { bootTemplate: t } = await io.gql<{ bootTemplate: ({ name: string; version: number; bootSets: { name: string; imageId: string; xnames: string[]; groups: string[]; roles: string[]; kernelParameters: string }[] }) | null }>(`query($n: String!, $s: String) { bootTemplate(name: $n, site: $s) { ${TEMPLATE} } }`, { n: name, s: o.site ?? null });
      if (!t) throw new CliError(`boot template ${name} not found`);
      if (o.json) return io.out(JSON.stringify(t));
      io.out(`${t.name} version ${t.version}`);
      table([['BOOT SET', 'IMAGE', 'TARGETS', 'PARAMS'], ...t.bootSets.map((b) => [b.name, b.imageId, [...b.xnames, ...b.groups.map((g) => `group:${g}`), ...b.roles.map((r) => `role:${r}`)].join(','), b.kernelParameters || '-'])], io.out);
    });
  template
    .command('list')
    .option('--site <site>')
    .option('--json')
    .action(async (o: { site?: string; json?: boolean }) => {
      const { bootTemplates: p } = await io.gql<{ bootTemplates: { edges: { node: { name: string; version: number; bootSets: unknown[]; updatedAt: string } }[] } }>(`query($s: String) { bootTemplates(site: $s, first: 100) { edges { node { name version updatedAt bootSets { name } } } } }`, { s: o.site ?? null });
      const ts = p.edges.map((e) => e.node);
      if (o.json) return io.out(JSON.stringify(ts));
      table([['NAME', 'VERSION', 'BOOT SETS', 'UPDATED'], ...ts.map((t) => [t.name, String(t.version), String(t.bootSets.length), t.updatedAt])], io.out);
    });

  const session = program.command('session').description('boot sessions (BOS sessions with a rolling policy)');
  session
    .command('create <template>')
    .requiredOption('--operation <op>', 'boot, reboot or shutdown')
    .option('--site <site>')
    .option('--limit <limit>', 'BOS limit: xnames, groups, roles; & and, ! not')
    .option('--stage', 'write staged state only (stage apply rolls it)')
    .option('--max-concurrent <n>')
    .option('--canary <n>')
    .option('--max-failures <n>')
    .option('--boot-timeout <seconds>')
    .option('--rollback')
    .option('--respect-workload')
    .option('--json')
    .action(async (tpl: string, o: Record<string, string | boolean | undefined>) => {
      const n = (k: string) => (o[k] === undefined ? {} : { [k === 'bootTimeout' ? 'bootTimeoutSeconds' : k]: Number(o[k]) });
      const input = {
        template: tpl,
        operation: String(o.operation).toUpperCase(),
        ...(o.site ? { site: o.site } : {}),
        ...(o.limit ? { limit: o.limit } : {}),
        ...(o.stage ? { stage: true } : {}),
        ...n('maxConcurrent'),
        ...n('canary'),
        ...n('maxFailures'),
        ...n('bootTimeout'),
        ...(o.rollback ? { rollback: true } : {}),
        ...(o.respectWorkload ? { respectWorkload: true } : {}),
      };
      const { createBootSession: s } = await io.gql<{ createBootSession: SessionJson }>(`mutation($i: BootSessionInput!) { createBootSession(input: $i) { ${SESSION} } }`, { i: input });
      if (o.json) return io.out(JSON.stringify(s));
      io.err(`session ${s.id} ${s.status}: ${countsText(s.counts)}`);
      io.out(s.id);
    });
  const read = async (id: string, nodes: boolean) => {
    const { bootSession: s } = await io.gql<{ bootSession: (SessionJson & { nodes?: { edges: { node: Record<string, unknown> }[] }; errors?: { step: string; message: string; count: number }[] }) | null }>(
      `query($id: ID!) { bootSession(id: $id) { ${SESSION}${nodes ? ' nodes(first: 100) { edges { node { xname phase attempts startedAt endedAt previousImageId targetImageId canary supersededBy error { step message } } } } errors { step message count xnames }' : ''} } }`,
      { id },
    );
    if (!s) throw new CliError(`boot session ${id} not found`);
    return s;
  };
  session
    .command('show <id>')
    .description('status, counts and the first 100 node records (the API pages the rest: BootSession.nodes)')
    .option('--json')
    .action(async (id: string, o: { json?: boolean }) => {
      const s = await read(id, true);
      if (o.json) return io.out(JSON.stringify(s));
      io.out(`${s.id}  ${s.operation} ${s.template}  ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`);
      io.out(countsText(s.counts));
      const rows = (s.nodes?.edges ?? []).map(({ node: n }) => [String(n.xname), String(n.phase), String(n.attempts), String(n.previousImageId ?? '-'), String(n.targetImageId ?? '-'), n.error ? `${(n.error as { step: string }).step}: ${(n.error as { message: string }).message}` : '']);
      table([['XNAME', 'PHASE', 'ATTEMPTS', 'PREVIOUS', 'TARGET', 'ERROR'], ...rows], io.out);
    });
  session
    .command('list')
    .option('--site <site>')
    .option('--status <status>')
    .option('--json')
    .action(async (o: { site?: string; status?: string; json?: boolean }) => {
      const { bootSessions: p } = await io.gql<{ bootSessions: { edges: { node: SessionJson }[] } }>(`query($s: String, $st: BootSessionStatus) { bootSessions(site: $s, status: $st, first: 100) { edges { node { ${SESSION} } } } }`, { s: o.site ?? null, st: o.status?.toUpperCase() ?? null });
      const ss = p.edges.map((e) => e.node);
      if (o.json) return io.out(JSON.stringify(ss));
      table([['ID', 'TEMPLATE', 'OPERATION', 'STATUS', 'DONE', 'CREATED'], ...ss.map((s) => [s.id, s.template, s.operation, s.status, `${settled(s.counts)}/${s.counts.total}`, s.createdAt])], io.out);
    });
  for (const [verb, field] of [['pause', 'pauseBootSession'], ['resume', 'resumeBootSession'], ['cancel', 'cancelBootSession']] as const) {
    session
      .command(`${verb} <id>`)
      .option('--json')
      .action(async (id: string, o: { json?: boolean }) => {
        const r = await io.gql<Record<string, SessionJson>>(`mutation($id: ID!) { ${field}(id: $id) { ${SESSION} } }`, { id });
        const s = r[field]!;
        if (o.json) return io.out(JSON.stringify(s));
        io.out(`${s.id} ${s.status}`);
      });
  }
  session
    .command('watch <id>')
    .description('a live progress bar and per-phase counts until the session ends (--json: one line per change)')
    .option('--interval <seconds>', 'poll interval', '2')
    .option('--json')
    .action(async (id: string, o: { interval: string; json?: boolean }) => {
      const start = Date.now();
      let last = '';
      for (;;) {
        const s = await read(id, false);
        const line = JSON.stringify({ status: s.status, counts: s.counts });
        if (line !== last) {
          last = line;
          if (o.json) io.out(JSON.stringify({ id: s.id, status: s.status, statusReason: s.statusReason, counts: s.counts, at: new Date().toISOString() }));
          else if (io.tty) io.err(`\r${s.status} ${barText(settled(s.counts), s.counts.total)} ${settled(s.counts)}/${s.counts.total} ${formatDuration((Date.now() - start) / 1000)}  ${countsText(s.counts)}\x1b[K`);
          else io.err(`${s.status} ${settled(s.counts)}/${s.counts.total}: ${countsText(s.counts)}`);
        }
        if (TERMINAL.includes(s.status) && (s.status !== 'CANCELLED' || s.counts.inProgress === 0)) {
          if (!o.json) io.out(`${s.id} ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`);
          if (s.status === 'FAILED') throw new CliError(`session ${s.id} FAILED: ${s.statusReason ?? ''}`);
          return;
        }
        if (io.signal?.aborted) return;
        await new Promise((r) => setTimeout(r, Number(o.interval) * 1000));
      }
    });

  program
    .command('stage')
    .description('staged boot state')
    .command('apply <xnames>')
    .description('applyStaged: roll staged nodes (comma list or hostlist, e.g. x1000c0s[0-3]b0n0)')
    .option('--site <site>')
    .option('--json')
    .action(async (xnames: string, o: { site?: string; json?: boolean }) => {
      const { applyStaged: r } = await io.gql<{ applyStaged: { succeeded: string[]; failed: string[]; ignored: string[] } }>(`mutation($x: [XName!]!, $s: String) { applyStaged(xnames: $x, site: $s) { succeeded failed ignored } }`, { x: expandHostlist(xnames), s: o.site ?? null });
      if (o.json) return io.out(JSON.stringify(r));
      io.out(`succeeded ${r.succeeded.length}${r.succeeded.length ? `: ${r.succeeded.join(',')}` : ''}`);
      if (r.failed.length) io.out(`failed ${r.failed.length}: ${r.failed.join(',')}`);
      if (r.ignored.length) io.out(`ignored ${r.ignored.length}: ${r.ignored.join(',')}`);
      if (r.failed.length) throw new CliError(`${r.failed.length} nodes could not be applied`);
    });
}
