/**
 * `skyboot-slurm-reboot`: Slurm's RebootProgram for `SlurmctldParameters=reboot_from_controller`.
 * slurmctld runs it with argv[1] = the nodes to reboot (a comma list; a hostlist is accepted too)
 * and argv[2] = required features (unused). It maps the Slurm names to xnames (the map file, else
 * the name format over the inventory's NIDs) and calls applyStaged, so the staged nodes roll
 * through the site's agent; the node's slurmd registering after the boot completes Slurm's reboot.
 *
 * Configured from the environment (SLURM_REBOOT_ENVIRONMENT below), as slurmctld starts it with
 * no options of its own. When a call does not go through, the nodes time out in Slurm after
 * ResumeTimeout.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { expandHostlist } from '../schema/hostlist.js';
import { createNodeNamer, DEFAULT_SLURM_NODE_NAME_FORMAT, parseNodeMap, type NodeNamer } from '../schema/slurmNodeNames.js';
import { packageVersion } from '../schema/version.js';
import { clientConfig, graphqlClient, type Gql } from './client.js';

/** The environment it reads, for --help and the man page (tools/manPages.ts). */
export const SLURM_REBOOT_ENVIRONMENT: Array<[string, string]> = [
  ['SKYBOOT_URL, SKYBOOT_PROFILE, SKYBOOT_TOKEN', 'the API and the identity, as for skyboot(1); slurmctld runs as SlurmUser, whose profile is used'],
  ['SKYBOOT_SITE', "the site (default: the caller's default site)"],
  ['SKYBOOT_SLURM_NODE_NAME_FORMAT', `how Slurm names a node from its NID (default ${DEFAULT_SLURM_NODE_NAME_FORMAT})`],
  ['SKYBOOT_SLURM_NODE_MAP', 'a JSON file mapping Slurm node names to xnames, read before the name format'],
  ['SKYBOOT_SLURM_REBOOT_LOG', "append each call's JSON result to this file (slurmctld drops the program's output)"],
];

/** The command's definition: its arguments, --help and --version (and the man page's source). */
export function buildSlurmRebootProgram(): Command {
  return new Command('skyboot-slurm-reboot')
    .description("Slurm's RebootProgram (SlurmctldParameters=reboot_from_controller): maps the nodes slurmctld reboots to xnames and calls applyStaged, so their staged boot state rolls through the site's agent; each node's slurmd registering after its boot completes Slurm's reboot.")
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print this help')
    .argument('<nodes>', 'the nodes to reboot as slurmctld passes them: a comma list, or a hostlist such as nid[000001-000004]')
    .argument('[features]', "the reboot's required features (passed by slurmctld; unused)")
    .addHelpText('after', `\nEnvironment:\n${SLURM_REBOOT_ENVIRONMENT.map(([k, v]) => `  ${k}\n      ${v}`).join('\n')}\n\nExit status: 0 when every node was applied or had nothing staged; 1 when a name is unknown, a node failed, or the call did not go through; 2 on a usage error.\n`);
}

export interface SlurmRebootResult {
  at: string;
  nodes: string[];
  xnames: string[];
  unknown: string[];
  succeeded: string[];
  failed: string[];
  ignored: string[];
  error?: string;
}

interface NodePage {
  components: { edges: { node: { xname: string; nid: number | null } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
}

const NODES_QUERY = `query($f: ComponentFilter, $after: String) {
  components(filter: $f, first: 500, after: $after) { edges { node { xname nid } } pageInfo { hasNextPage endCursor } }
}`;

/** NID → xname for the site's nodes, read only when a name needs it (pages of 500 stay under the gateway's query-cost limit). */
async function nidIndex(gql: Gql, site: string | null): Promise<Map<number, string>> {
  const byNid = new Map<number, string>();
  let after: string | null = null;
  do {
    const page: NodePage = await gql<NodePage>(NODES_QUERY, { f: { type: 'Node', ...(site ? { site } : {}) }, after });
    for (const { node } of page.components.edges) if (node.nid !== null) byNid.set(node.nid, node.xname);
    after = page.components.pageInfo.hasNextPage ? page.components.pageInfo.endCursor : null;
  } while (after);
  return byNid;
}

export async function mapSlurmNames(gql: Gql, names: string[], namer: NodeNamer, site: string | null): Promise<{ xnames: string[]; unknown: string[] }> {
  let index: Map<number, string> | null = null;
  const xnames: string[] = [];
  const unknown: string[] = [];
  for (const name of names) {
    let xname = namer.xname(name, () => null);
    if (!xname) {
      index ??= await nidIndex(gql, site);
      const idx = index;
      xname = namer.xname(name, (nid) => idx.get(nid) ?? null);
    }
    if (xname) xnames.push(xname);
    else unknown.push(name);
  }
  return { xnames, unknown };
}

export interface SlurmRebootIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

export async function runSlurmReboot(args: string[], env: NodeJS.ProcessEnv, io: SlurmRebootIo, gql?: Gql): Promise<number> {
  const result: SlurmRebootResult = { at: new Date().toISOString(), nodes: [], xnames: [], unknown: [], succeeded: [], failed: [], ignored: [] };
  const finish = (code: number): number => {
    const line = JSON.stringify(result);
    io.stdout(`${line}\n`);
    if (env.SKYBOOT_SLURM_REBOOT_LOG) appendFileSync(env.SKYBOOT_SLURM_REBOOT_LOG, `${line}\n`);
    if (result.error) io.stderr(`skyboot-slurm-reboot: ${result.error}\n`);
    return code;
  };
  const program = buildSlurmRebootProgram().exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    // --help and --version end here with 0; a usage error has been printed by commander.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  try {
    result.nodes = expandHostlist(program.args[0]!);
    const mapFile = env.SKYBOOT_SLURM_NODE_MAP;
    const namer = createNodeNamer(
      env.SKYBOOT_SLURM_NODE_NAME_FORMAT || DEFAULT_SLURM_NODE_NAME_FORMAT,
      mapFile ? parseNodeMap(readFileSync(mapFile, 'utf8'), mapFile) : undefined,
    );
    const client = gql ?? graphqlClient(clientConfig(env));
    const site = env.SKYBOOT_SITE || null;
    const mapped = await mapSlurmNames(client, result.nodes, namer, site);
    result.xnames = mapped.xnames;
    result.unknown = mapped.unknown;
    if (mapped.xnames.length) {
      const r = await client<{ applyStaged: { succeeded: string[]; failed: string[]; ignored: string[] } }>(
        'mutation($x: [XName!]!, $site: String) { applyStaged(xnames: $x, site: $site) { succeeded failed ignored } }',
        { x: mapped.xnames, site },
      );
      Object.assign(result, r.applyStaged);
    }
    if (result.unknown.length) result.error = `no xname for Slurm node(s) ${result.unknown.join(', ')} (not in SKYBOOT_SLURM_NODE_MAP, no inventory node with that NID under ${env.SKYBOOT_SLURM_NODE_NAME_FORMAT || DEFAULT_SLURM_NODE_NAME_FORMAT})`;
    return finish(result.unknown.length || result.failed.length ? 1 : 0);
  } catch (err) {
    result.error = (err as Error).message;
    return finish(1);
  }
}
