/** `skyboot component list|show|upsert|update|delete|state|move`: the inventory's nodes and other components. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { CliError } from './client.js';
import type { CliIo } from './imageCommands.js';
import { collect, render, withOutput, type Column, type OutputOptions } from './output.js';
import { allPages, type Connection } from './paging.js';
import { defined, enumValue, FLAGS, intValue, ROLES, siteOption, STATES } from './options.js';
import { mapArch } from './push.js';
import { resolveTargets } from './targets.js';

export const COMPONENT = 'xname type state flag enabled role subRole nid arch class netType site version partition groups interfaces { mac ipAddresses network } updatedAt';

export interface ComponentJson {
  xname: string;
  type: string;
  state: string;
  flag: string;
  enabled: boolean;
  role: string | null;
  subRole: string | null;
  nid: number | null;
  arch: string | null;
  class: string | null;
  netType: string | null;
  site: string;
  version: number;
  partition: string | null;
  groups: string[];
  interfaces: { mac: string; ipAddresses: string[]; network: string }[];
  updatedAt: string;
}

export const COMPONENT_COLUMNS: Column<ComponentJson>[] = [
  { header: 'XNAME', value: (c) => c.xname },
  { header: 'TYPE', value: (c) => c.type },
  { header: 'STATE', value: (c) => c.state },
  { header: 'FLAG', value: (c) => c.flag },
  { header: 'ROLE', value: (c) => c.role },
  { header: 'NID', value: (c) => c.nid },
  { header: 'ARCH', value: (c) => c.arch },
  { header: 'ENABLED', value: (c) => c.enabled },
  { header: 'SUBROLE', value: (c) => c.subRole, wide: true },
  { header: 'MACS', value: (c) => c.interfaces.map((i) => i.mac).join(' '), wide: true },
  { header: 'IPS', value: (c) => c.interfaces.flatMap((i) => i.ipAddresses).join(' '), wide: true },
  { header: 'GROUPS', value: (c) => c.groups.join(' '), wide: true },
  { header: 'PARTITION', value: (c) => c.partition, wide: true },
  { header: 'SITE', value: (c) => c.site, wide: true },
  { header: 'VERSION', value: (c) => c.version, wide: true },
  { header: 'UPDATED', value: (c) => c.updatedAt, wide: true },
];

interface UpsertResult {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: { index: number; path: string; xname: string; code: string; message: string }[];
  errorsOmitted: number;
}

/** An upsert's counts on stderr and each refused element by its input path; exit 1 when any was refused. */
export function reportUpsert(r: UpsertResult, io: CliIo): void {
  io.err(`created ${r.created}, updated ${r.updated}, unchanged ${r.unchanged}, failed ${r.failed}`);
  for (const e of r.errors) io.err(`${e.path} (${e.xname}): ${e.code}: ${e.message}`);
  if (r.errorsOmitted) io.err(`... and ${r.errorsOmitted} more refused elements`);
  if (r.failed) throw new CliError(`${r.failed} of ${r.created + r.updated + r.unchanged + r.failed} components refused`);
}

/** Components of a site, with a server-side filter; optionally narrowed to targets. */
export async function listComponents(io: CliIo, filter: Record<string, unknown>): Promise<ComponentJson[]> {
  return allPages<ComponentJson, { components: Connection<ComponentJson> }>(
    io.gql,
    `query($filter: ComponentFilter, $first: Int, $after: String) { components(filter: $filter, first: $first, after: $after) { edges { node { ${COMPONENT} } } pageInfo { hasNextPage endCursor } } }`,
    { filter },
    (d) => d.components,
  );
}

/** Reads an upsert file: a JSON or YAML list of ComponentInput (`-` is stdin). */
async function readInputs(path: string): Promise<unknown[]> {
  const text = path === '-' ? await new Promise<string>((res) => { let s = ''; process.stdin.on('data', (d: Buffer) => (s += d.toString())).on('end', () => res(s)); }) : await readFile(path, 'utf8');
  let data: unknown;
  try {
    data = /^\s*[[{]/.test(text) ? JSON.parse(text) : (await import('yaml')).parse(text);
  } catch (err) {
    throw new CliError(`--file ${path}: not JSON or YAML: ${(err as Error).message}`, { exitCode: 2 });
  }
  if (!Array.isArray(data)) throw new CliError(`--file ${path}: expected a list of components, got ${typeof data}`, { exitCode: 2 });
  return data;
}

type Opts = OutputOptions & Record<string, unknown>;

export function registerComponentCommands(program: Command, io: CliIo): void {
  const component = program.command('component').description('inventory components (HSM): list, show, upsert, update, delete, state, move');

  withOutput(siteOption(component.command('list [targets...]')))
    .description('components of a site; targets (xnames, hostlists, nid[1-4], @group, role:compute) narrow the list')
    .option('--type <type>', 'HSM type, e.g. Node or NodeBMC')
    .option('--state <state>', `state: ${STATES.join(', ').toLowerCase()}`, enumValue(STATES))
    .option('--flag <flag>', `flag: ${FLAGS.join(', ').toLowerCase()}`, enumValue(FLAGS))
    .option('--role <role>', `role: ${ROLES.join(', ').toLowerCase()}`, enumValue(ROLES))
    .option('--arch <arch>', 'x86_64 or aarch64', mapArch)
    .option('--group <label>', 'members of a group')
    .option('--partition <name>', 'members of a partition')
    .action(async (targets: string[], o: Opts) => {
      const filter = defined({ site: o.site, type: o.type, state: o.state, flag: o.flag, role: o.role, arch: o.arch, group: o.group, partition: o.partition });
      let rows = await listComponents(io, filter);
      if (targets.length) {
        const wanted = new Set((await resolveTargets(io.gql, targets, o.site as string | undefined)).xnames);
        rows = rows.filter((c) => wanted.has(c.xname));
      }
      await render(rows, COMPONENT_COLUMNS, o, io.out);
    });

  withOutput(siteOption(component.command('show <xname>')))
    .description('one component, every column')
    .action(async (xname: string, o: Opts) => {
      const { component: c } = await io.gql<{ component: ComponentJson | null }>(`query($x: XName!, $site: String) { component(xname: $x, site: $site) { ${COMPONENT} } }`, { x: xname, site: o.site ?? null });
      if (!c) throw new CliError(`component ${xname} not found${o.site ? ` in site ${String(o.site)}` : ''}`);
      await render([c], COMPONENT_COLUMNS, { ...o, output: o.output === 'table' ? 'wide' : o.output }, io.out, true);
    });

  siteOption(component.command('upsert'))
    .description('create or update components: from --file (JSON/YAML list of ComponentInput, - for stdin) or one from flags')
    .option('--file <path>', 'JSON or YAML list of components')
    .option('--xname <xname>', 'one component: its xname')
    .option('--role <role>', `role: ${ROLES.join(', ').toLowerCase()}`, enumValue(ROLES))
    .option('--sub-role <subRole>')
    .option('--nid <nid>', 'node id', intValue)
    .option('--arch <arch>', 'x86_64 or aarch64', mapArch)
    .option('--state <state>', `initial state: ${STATES.join(', ').toLowerCase()}`, enumValue(STATES))
    .option('--mac <mac>', 'interface MAC (repeatable); given, the complete set of interfaces', collect, [])
    .option('--ip <ip>', 'IPv4 of the first --mac (repeatable)', collect, [])
    .action(async (o: Opts) => {
      if (!!o.file === !!o.xname) throw new CliError('give exactly one of --file and --xname', { exitCode: 2 });
      const macs = o.mac as string[];
      const ips = o.ip as string[];
      const input = o.file
        ? (await readInputs(o.file as string)).map((c) => (o.site && typeof c === 'object' && c && !('site' in c) ? { ...c, site: o.site } : c))
        : [defined({ xname: o.xname, role: o.role, subRole: o.subRole, nid: o.nid, arch: o.arch, state: o.state, site: o.site, interfaces: macs.length ? macs.map((mac, i) => ({ mac, ...(i === 0 && ips.length ? { ipAddresses: ips } : {}) })) : undefined })];
      const { upsertComponents: r } = await io.gql<{ upsertComponents: UpsertResult }>(
        'mutation($input: [ComponentInput!]!) { upsertComponents(input: $input) { created updated unchanged failed errors { index path xname code message } errorsOmitted } }',
        { input },
      );
      reportUpsert(r, io);
    });

  withOutput(siteOption(component.command('update <xname>')))
    .description('change some fields of one component (the rest stay)')
    .option('--role <role>', `role: ${ROLES.join(', ').toLowerCase()}`, enumValue(ROLES))
    .option('--sub-role <subRole>')
    .option('--nid <nid>', 'node id', intValue)
    .option('--arch <arch>', 'x86_64 or aarch64', mapArch)
    .option('--flag <flag>', `flag: ${FLAGS.join(', ').toLowerCase()}`, enumValue(FLAGS))
    .option('--enable', 'enable the component')
    .option('--disable', 'disable the component')
    .option('--class <class>', 'River, Mountain or Hill')
    .option('--expected-version <n>', 'refuse unless the stored version is this one', intValue)
    .action(async (xname: string, o: Opts) => {
      if (o.enable && o.disable) throw new CliError('give at most one of --enable and --disable', { exitCode: 2 });
      const patch = defined({ role: o.role, subRole: o.subRole, nid: o.nid, arch: o.arch, flag: o.flag, class: o.class, enabled: o.enable ? true : o.disable ? false : undefined });
      if (!Object.keys(patch).length) throw new CliError('nothing to change: give at least one of --role --sub-role --nid --arch --flag --enable --disable --class', { exitCode: 2 });
      const { updateComponent: c } = await io.gql<{ updateComponent: ComponentJson }>(
        `mutation($x: XName!, $site: String, $patch: ComponentPatch!, $v: Int) { updateComponent(xname: $x, site: $site, patch: $patch, expectedVersion: $v) { ${COMPONENT} } }`,
        { x: xname, site: o.site ?? null, patch, v: o.expectedVersion ?? null },
      );
      await render([c], COMPONENT_COLUMNS, o, io.out, true);
    });

  siteOption(component.command('delete <targets...>'))
    .description('delete components (xnames, hostlists, nid ranges, @group, role:)')
    .action(async (targets: string[], o: Opts) => {
      const { xnames } = await resolveTargets(io.gql, targets, o.site as string | undefined);
      for (const x of xnames) {
        await io.gql('mutation($x: XName!, $site: String) { deleteComponent(xname: $x, site: $site) }', { x, site: o.site ?? null });
        io.err(`deleted ${x}`);
      }
    });

  withOutput(siteOption(component.command('state <targets...>')))
    .description('set the HSM state (and flag) of components; the transition is checked unless --force')
    .requiredOption('--state <state>', `state: ${STATES.join(', ').toLowerCase()}`, enumValue(STATES))
    .option('--flag <flag>', `flag: ${FLAGS.join(', ').toLowerCase()}`, enumValue(FLAGS))
    .option('--force', 'skip the transition check')
    .action(async (targets: string[], o: Opts) => {
      const { xnames, unmatched } = await resolveTargets(io.gql, targets, o.site as string | undefined);
      for (const u of unmatched) io.err(`warning: ${u} matches no component`);
      const { setComponentState: rows } = await io.gql<{ setComponentState: ComponentJson[] }>(
        `mutation($x: [XName!]!, $site: String, $state: State!, $flag: Flag, $force: Boolean) { setComponentState(xnames: $x, site: $site, state: $state, flag: $flag, force: $force) { ${COMPONENT} } }`,
        { x: xnames, site: o.site ?? null, state: o.state, flag: o.flag ?? null, force: Boolean(o.force) },
      );
      await render(rows, COMPONENT_COLUMNS, o, io.out);
    });

  withOutput(component.command('move <xname>'))
    .description('move a component with its interfaces, memberships and hardware to another site')
    .requiredOption('--from <site>', 'the site holding it')
    .requiredOption('--to <site>', 'the site to move it to')
    .option('--expected-version <n>', 'refuse unless the stored version is this one', intValue)
    .action(async (xname: string, o: Opts) => {
      const { moveComponent: c } = await io.gql<{ moveComponent: ComponentJson }>(
        `mutation($x: XName!, $from: String!, $to: String!, $v: Int) { moveComponent(xname: $x, fromSite: $from, toSite: $to, expectedVersion: $v) { ${COMPONENT} } }`,
        { x: xname, from: o.from, to: o.to, v: o.expectedVersion ?? null },
      );
      await render([c], COMPONENT_COLUMNS, o, io.out, true);
    });
}
