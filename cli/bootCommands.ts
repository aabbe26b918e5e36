/** `skyboot boot set|show|list|delete|script`. */
import type { Command } from 'commander';
import { CliError, type Gql } from './client.js';
import type { CliIo } from './imageCommands.js';
import { collect, table } from './output.js';
import { mapArch } from './push.js';
import { allPages, type Connection } from './paging.js';

const CONFIG = 'id site imageId kernel initrd rootfs kernelParameters rootfsProvider priority version updatedAt selector { xnames macs nids groups roles subRole default unknown arch }';

interface ConfigJson {
  id: string;
  site: string;
  imageId: string | null;
  kernel: string;
  kernelParameters: string;
  rootfsProvider: string | null;
  priority: number;
  version: number;
  selector: Record<string, unknown>;
}

function selectorText(s: Record<string, unknown>): string {
  if (s.default) return `default:${String(s.arch)}`;
  if (s.unknown) return `unknown:${String(s.arch)}`;
  const parts: string[] = [];
  for (const k of ['xnames', 'macs', 'nids', 'groups', 'roles'] as const) {
    const v = s[k] as unknown[];
    if (v?.length) parts.push(`${k}=${v.join(',')}`);
  }
  if (s.subRole) parts.push(`subRole=${String(s.subRole)}`);
  return parts.join(' ');
}

/** The flag each selector input path comes from, so a warning names what the operator typed. */
const SELECTOR_FLAGS: Record<string, string> = {
  'input.selector.xnames': '--xname',
  'input.selector.macs': '--mac',
  'input.selector.nids': '--nid',
  'input.selector.groups': '--group',
};

function integerFlag(flag: string, raw: string, min = -Infinity): number {
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || n < min) throw new CliError(`${flag}: "${raw}" is not ${min === 0 ? 'a non-negative' : 'an'} integer`, { exitCode: 2 });
  return n;
}

// Image ids are UUIDs (createImage); image names cannot hold ':' (functions/images/validate.ts), so name:version is unambiguous.
const IMAGE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** --image as an image id: an id as given (the API checks it is READY), else name:version, else the newest READY image of the name. */
async function imageIdFor(gql: Gql, ref: string, arch: string | undefined): Promise<string> {
  if (IMAGE_ID.test(ref)) return ref;
  const colon = ref.indexOf(':');
  const name = colon < 0 ? ref : ref.slice(0, colon);
  const version = colon < 0 ? null : ref.slice(colon + 1);
  let found: { id: string } | null;
  try {
    ({ imageByName: found } = await gql<{ imageByName: { id: string } | null }>('query($name: String!, $version: String, $arch: Arch) { imageByName(name: $name, version: $version, arch: $arch) { id } }', { name, version, arch: version === null ? (arch ?? null) : null }));
  } catch (err) {
    throw new CliError(`--image ${ref}: ${(err as Error).message}`, { cause: err });
  }
  if (!found) throw new CliError(`--image ${ref}: ${version === null ? `no READY image named "${name}"${arch ? ` for ${arch}` : ''}` : `no image "${name}" with version "${version}"`}`);
  return found.id;
}

export function registerBootCommands(program: Command, io: CliIo): void {
  const boot = program.command('boot').description('boot configuration (BSS): set, show, list, delete, script');

  boot
    .command('set')
    .description('set the boot configuration for a selector: patches the stored one (fields not given keep their values) unless --replace')
    .option('--xname <xname>', 'node xname (repeatable)', collect, [])
    .option('--mac <mac>', 'MAC (repeatable)', collect, [])
    .option('--nid <nid>', 'NID (repeatable)', collect, [])
    .option('--group <label>', 'group (repeatable)', collect, [])
    .option('--role <role>', 'role, e.g. COMPUTE (repeatable)', collect, [])
    .option('--sub-role <subRole>', 'narrows --role')
    .option('--default', 'default for an arch (needs --arch)')
    .option('--unknown', 'discovery image for unknown MACs (needs --arch)')
    .option('--arch <arch>', 'x86_64 or aarch64, with --default/--unknown')
    .option('--site <site>')
    .option('--image <image>', 'READY image: its id, name:version, or name (the newest READY image of that name)')
    .option('--kernel <sha256>', 'explicit kernel artifact instead of --image')
    .option('--initrd <sha256>', 'explicit initrd artifact')
    .option('--params <kernel parameters>', 'kernel parameters')
    .option('--clear-params', 'clear the stored kernel parameters (not with --params)')
    .option('--rootfs <provider>', 'http or iscsi')
    .option('--priority <n>', 'group tie-break: higher wins')
    .option('--replace', 'replace the whole stored configuration: fields not given take their defaults')
    .option('--json')
    .action(async (o: Record<string, string | string[] | boolean | undefined>) => {
      if (o.clearParams && o.params !== undefined) throw new CliError('--clear-params and --params cannot be combined: one clears the kernel parameters, the other sets them', { exitCode: 2 });
      const list = (k: string) => (o[k] as string[]).length ? (o[k] as string[]) : undefined;
      const arch = o.arch ? mapArch(o.arch as string) : undefined;
      const selector = {
        ...(list('xname') ? { xnames: list('xname') } : {}),
        ...(list('mac') ? { macs: list('mac') } : {}),
        ...(list('nid') ? { nids: list('nid')!.map((n) => integerFlag('--nid', n, 0)) } : {}),
        ...(list('group') ? { groups: list('group') } : {}),
        ...(list('role') ? { roles: list('role')!.map((r) => r.toUpperCase()) } : {}),
        ...(o.subRole ? { subRole: o.subRole } : {}),
        ...(o.default ? { default: true } : {}),
        ...(o.unknown ? { unknown: true } : {}),
        ...(arch ? { arch } : {}),
      };
      const rootfs = o.rootfs === undefined ? undefined : (o.rootfs as string).toUpperCase();
      if (rootfs !== undefined && rootfs !== 'HTTP' && rootfs !== 'ISCSI') throw new CliError(`--rootfs: "${String(o.rootfs)}" is not http or iscsi`, { exitCode: 2 });
      const priority = o.priority === undefined ? undefined : integerFlag('--priority', o.priority as string);
      // An image name is resolved for the selector's arch (a default/unknown selector has one), so "rocky" means the newest READY rocky that arch can boot.
      const imageId = o.image ? await imageIdFor(io.gql, o.image as string, arch) : undefined;
      const input = {
        selector,
        ...(o.site ? { site: o.site } : {}),
        ...(imageId ? { imageId } : {}),
        ...(o.kernel ? { kernel: o.kernel } : {}),
        ...(o.initrd ? { initrd: o.initrd } : {}),
        ...(o.clearParams ? { kernelParameters: '' } : o.params !== undefined ? { kernelParameters: o.params } : {}),
        ...(rootfs ? { rootfsProvider: rootfs } : {}),
        ...(priority !== undefined ? { priority } : {}),
      };
      // The API merges a patch into the stored configuration under its version check (and merges again when a concurrent write wins), so this command never reads-modifies-writes on its own.
      const { writeBootConfiguration: w } = await io.gql<{ writeBootConfiguration: { configuration: ConfigJson; warnings: { field: string; value: string; reason: string }[] } }>(
        `mutation($input: BootConfigurationInput!, $mode: BootWriteMode!) { writeBootConfiguration(input: $input, mode: $mode) { configuration { ${CONFIG} } warnings { field value reason } } }`,
        { input, mode: o.replace ? 'REPLACE' : 'PATCH' },
      );
      for (const warning of w.warnings) io.err(`warning: ${SELECTOR_FLAGS[warning.field] ?? warning.field} ${warning.value}: ${warning.reason} (stored anyway: it applies once the inventory lists it)`);
      const c = w.configuration;
      if (o.json) return io.out(JSON.stringify(c));
      io.err(`boot configuration ${c.id} version ${c.version} for ${selectorText(c.selector)}`);
      io.out(c.id);
    });

  boot
    .command('show')
    .description('what a node boots (--xname, with the winning selector) or one configuration (--id)')
    .option('--xname <xname>')
    .option('--site <site>', "the node's site (default: the deployment's default site)")
    .option('--id <id>')
    .option('--json')
    .action(async (o: { xname?: string; site?: string; id?: string; json?: boolean }) => {
      if (!!o.xname === !!o.id) throw new CliError('give exactly one of --xname and --id', { exitCode: 2 });
      if (o.id) {
        const { bootConfiguration: c } = await io.gql<{ bootConfiguration: ConfigJson | null }>(`query($id: ID!) { bootConfiguration(id: $id) { ${CONFIG} } }`, { id: o.id });
        if (!c) throw new CliError(`boot configuration ${o.id} not found`);
        if (o.json) return io.out(JSON.stringify(c));
        io.out(`${c.id}  site ${c.site}  ${selectorText(c.selector)}`);
        io.out(`image ${c.imageId ?? '-'}  kernel ${c.kernel}  rootfs ${c.rootfsProvider ?? '-'}  priority ${c.priority}  version ${c.version}`);
        io.out(`params: ${c.kernelParameters || '-'}`);
        return;
      }
      const { bootConfigurationFor: r } = await io.gql<{ bootConfigurationFor: (Record<string, unknown> & { matchedSelector: string; candidates: string[]; configuration: ConfigJson }) | null }>(
        `query($x: XName!, $site: String) { bootConfigurationFor(xname: $x, site: $site) { xname site matchedSelector matchedKind matchedValue candidates imageId kernel initrd rootfs kernelParameters rootfsProvider configuration { ${CONFIG} } } }`,
        { x: o.xname, site: o.site ?? null },
      );
      if (o.json) return io.out(JSON.stringify(r));
      if (!r) return io.out(`${o.xname}: no boot configuration matches`);
      io.out(`${String(r.xname)}: ${r.configuration.id} (matched ${r.matchedSelector}; candidates ${r.candidates.join(' > ')})`);
      io.out(`image ${String(r.imageId ?? '-')}  rootfs ${String(r.rootfsProvider ?? '-')}  params: ${String(r.kernelParameters) || '-'}`);
    });

  boot
    .command('list')
    .description("a site's boot configurations")
    .option('--site <site>')
    .option('--json')
    .action(async (o: { site?: string; json?: boolean }) => {
      const nodes = await allPages<ConfigJson, { bootConfigurations: Connection<ConfigJson> }>(
        io.gql,
        `query($site: String, $first: Int, $after: String) { bootConfigurations(site: $site, first: $first, after: $after) { edges { node { ${CONFIG} } } pageInfo { hasNextPage endCursor } } }`,
        { site: o.site ?? null },
        (d) => d.bootConfigurations,
      );
      if (o.json) return io.out(JSON.stringify(nodes));
      table([['ID', 'SELECTOR', 'IMAGE', 'ROOTFS', 'PRIORITY'], ...nodes.map((c) => [c.id, selectorText(c.selector), c.imageId ?? c.kernel.slice(0, 12), c.rootfsProvider ?? '-', String(c.priority)])], io.out);
    });

  boot
    .command('delete <id>')
    .description('delete a boot configuration')
    .action(async (id: string) => {
      await io.gql(`mutation($id: ID!) { deleteBootConfiguration(id: $id) }`, { id });
      io.err(`deleted boot configuration ${id}`);
    });

  boot
    .command('script')
    .description('the iPXE script a MAC (or a node, by its first MAC) gets')
    .option('--mac <mac>')
    .option('--xname <xname>')
    .option('--site <site>', "the node's site (default: the deployment's default site)")
    .option('--agent-url <url>', 'artifact base URL to render (defaults to the preview URL)')
    .action(async (o: { mac?: string; xname?: string; site?: string; agentUrl?: string }) => {
      if (!!o.mac === !!o.xname) throw new CliError('give exactly one of --mac and --xname', { exitCode: 2 });
      let mac = o.mac;
      if (o.xname) {
        const { component } = await io.gql<{ component: { interfaces: { mac: string }[] } | null }>(`query($x: XName!, $site: String) { component(xname: $x, site: $site) { interfaces { mac } } }`, { x: o.xname, site: o.site ?? null });
        if (!component) throw new CliError(`component ${o.xname} not found`);
        mac = component.interfaces.map((i) => i.mac).sort()[0];
        if (!mac) throw new CliError(`${o.xname} has no network interfaces, so it has no boot script`);
      }
      const { bootScript } = await io.gql<{ bootScript: string }>(`query($mac: MAC!, $url: String, $site: String) { bootScript(mac: $mac, agentBaseUrl: $url, site: $site) }`, { mac, url: o.agentUrl ?? null, site: o.site ?? null });
      io.out(bootScript.replace(/\n$/, ''));
    });
}
