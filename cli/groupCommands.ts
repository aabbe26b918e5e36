/**
 * `skyboot group …` and `skyboot partition …`: list, show (with members), create, update,
 * delete, add, remove. The two differ only in their GraphQL names (a group has a label and an
 * exclusive-group name, a partition a name), so one definition registers both.
 */
import type { Command } from 'commander';
import { CliError } from './client.js';
import type { CliIo } from './imageCommands.js';
import { collect, render, withOutput, type Column, type OutputOptions } from './output.js';
import { allPages, type Connection } from './paging.js';
import { defined, intValue, siteOption } from './options.js';
import { resolveTargets } from './targets.js';
import { COMPONENT, COMPONENT_COLUMNS, type ComponentJson } from './componentCommands.js';

interface SetJson {
  name: string;
  description: string | null;
  tags: string[];
  exclusiveGroup?: string | null;
  version: number;
  updatedAt: string;
  members?: Connection<{ xname: string }>;
}

interface Kind {
  noun: 'group' | 'partition';
  /** GraphQL type and field stems: Group / group / label. */
  type: 'Group' | 'Partition';
  key: 'label' | 'name';
  plural: 'groups' | 'partitions';
}

const KINDS: Kind[] = [
  { noun: 'group', type: 'Group', key: 'label', plural: 'groups' },
  { noun: 'partition', type: 'Partition', key: 'name', plural: 'partitions' },
];

function fields(k: Kind): string {
  return `name: ${k.key} description tags ${k.noun === 'group' ? 'exclusiveGroup' : ''} version updatedAt`;
}

function columns(k: Kind): Column<SetJson & { memberCount?: number }>[] {
  return [
    { header: k.key.toUpperCase(), value: (s) => s.name },
    { header: 'DESCRIPTION', value: (s) => s.description },
    { header: 'TAGS', value: (s) => s.tags.join(' ') },
    ...(k.noun === 'group' ? [{ header: 'EXCLUSIVE', value: (s: SetJson) => s.exclusiveGroup, wide: true }] : []),
    { header: 'VERSION', value: (s) => s.version, wide: true },
    { header: 'UPDATED', value: (s) => s.updatedAt, wide: true },
  ];
}

type Opts = OutputOptions & Record<string, unknown>;

function registerKind(program: Command, io: CliIo, k: Kind): void {
  const cmd = program.command(k.noun).description(`${k.plural}: list, show, create, update, delete, add, remove`);
  const var$ = k.key === 'label' ? '$label' : '$name';

  withOutput(cmd.command('list'))
    .description(`every ${k.noun}`)
    .action(async (o: Opts) => {
      const rows = await allPages<SetJson, Record<string, Connection<SetJson>>>(
        io.gql,
        `query($first: Int, $after: String) { ${k.plural}(first: $first, after: $after) { edges { node { ${fields(k)} } } pageInfo { hasNextPage endCursor } } }`,
        {},
        (d) => d[k.plural]!,
      );
      await render(rows, columns(k), o, io.out);
    });

  withOutput(cmd.command(`show <${k.key}>`))
    .description(`one ${k.noun} and its members (a component table)`)
    .action(async (name: string, o: Opts) => {
      const get = async (first: number, after: string | null) =>
        (await io.gql<Record<string, SetJson | null>>(
          `query(${var$}: String!, $first: Int, $after: String) { ${k.noun}(${k.key}: ${var$}) { ${fields(k)} members(first: $first, after: $after) { edges { node { ${COMPONENT} } } pageInfo { hasNextPage endCursor } } } }`,
          { [k.key]: name, first, after },
        ))[k.noun];
      const head = await get(1, null);
      if (!head) throw new CliError(`${k.noun} ${name} not found`);
      const all: ComponentJson[] = [];
      let after: string | null = null;
      for (;;) {
        const page = (await get(100, after))!.members as unknown as Connection<ComponentJson>;
        all.push(...page.edges.map((e) => e.node));
        if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
        after = page.pageInfo.endCursor;
      }
      const set = { ...head, members: undefined };
      if (o.output === 'json' || o.output === 'yaml') return render([{ ...set, members: all.map((c) => c.xname) }], [], o, io.out, true);
      io.err(`${k.noun} ${set.name}: ${all.length} member(s)${set.description ? `: ${set.description}` : ''}`);
      await render(all, COMPONENT_COLUMNS, o, io.out);
    });

  const create = withOutput(cmd.command(`create <${k.key}>`))
    .description(`create a ${k.noun}`)
    .option('--description <text>')
    .option('--tag <tag>', 'tag (repeatable)', collect, []);
  if (k.noun === 'group') create.option('--exclusive <name>', 'exclusive-group name: groups sharing it hold disjoint members');
  create.action(async (name: string, o: Opts) => {
    const input = defined({ [k.key]: name, description: o.description, tags: (o.tag as string[]).length ? o.tag : undefined, exclusiveGroup: o.exclusive });
    const r = await io.gql<Record<string, SetJson>>(`mutation($input: ${k.type}Input!) { create${k.type}(input: $input) { ${fields(k)} } }`, { input });
    await render([r[`create${k.type}`]!], columns(k), o, io.out, true);
  });

  withOutput(cmd.command(`update <${k.key}>`))
    .description(`change a ${k.noun}'s description or tags`)
    .option('--description <text>')
    .option('--tag <tag>', 'tag (repeatable; replaces the tags)', collect, [])
    .option('--expected-version <n>', 'refuse unless the stored version is this one', intValue)
    .action(async (name: string, o: Opts) => {
      const patch = defined({ description: o.description, tags: (o.tag as string[]).length ? o.tag : undefined });
      if (!Object.keys(patch).length) throw new CliError('nothing to change: give --description or --tag', { exitCode: 2 });
      const r = await io.gql<Record<string, SetJson>>(`mutation(${var$}: String!, $patch: ${k.type}Patch!, $v: Int) { update${k.type}(${k.key}: ${var$}, patch: $patch, expectedVersion: $v) { ${fields(k)} } }`, { [k.key]: name, patch, v: o.expectedVersion ?? null });
      await render([r[`update${k.type}`]!], columns(k), o, io.out, true);
    });

  cmd
    .command(`delete <${k.key}>`)
    .description(`delete a ${k.noun} (its members stay in the inventory)`)
    .action(async (name: string) => {
      await io.gql(`mutation(${var$}: String!) { delete${k.type}(${k.key}: ${var$}) }`, { [k.key]: name });
      io.err(`deleted ${k.noun} ${name}`);
    });

  for (const [verb, op] of [['add', 'add'], ['remove', 'remove']] as const) {
    siteOption(cmd.command(`${verb} <${k.key}> <targets...>`))
      .description(`${verb} members (xnames, hostlists, nid ranges, @group, role:) ${verb === 'add' ? 'to' : 'from'} a ${k.noun}`)
      .action(async (name: string, targets: string[], o: Opts) => {
        const { xnames, unmatched } = await resolveTargets(io.gql, targets, o.site as string | undefined);
        for (const u of unmatched) io.err(`warning: ${u} matches no component`);
        const mutation = `${op}${k.type}Members`;
        const r = await io.gql<Record<string, { name: string; changed: string[] }>>(`mutation(${var$}: String!, $x: [XName!]!, $site: String) { ${mutation}(${k.key}: ${var$}, xnames: $x, site: $site) { name changed } }`, { [k.key]: name, x: xnames, site: o.site ?? null });
        const changed = r[mutation]!.changed;
        io.err(`${k.noun} ${name}: ${verb === 'add' ? 'added' : 'removed'} ${changed.length} of ${xnames.length}`);
        for (const x of changed) io.out(x);
      });
  }
}

export function registerGroupCommands(program: Command, io: CliIo): void {
  for (const k of KINDS) registerKind(program, io, k);
}
