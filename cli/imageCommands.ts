/** `skyboot image push|list|show|delete`. */
import type { Command } from 'commander';
import { CliError, type Gql } from './client.js';
import { collect, parseLabel, table } from './output.js';
import { formatBytes } from './progress.js';
import { mapArch, pushImage, type ImageJson as PushedImage, type PushOptions } from './push.js';

export interface CliIo {
  gql: Gql;
  /** The GraphQL URL the CLI talks to (agent configs name it). */
  apiUrl?: string;
  out: (line: string) => void;
  err: (line: string) => void;
  /** stderr is a terminal: progress bars are drawn. */
  tty: boolean;
  signal?: AbortSignal;
}

const IMAGE = 'id name version arch status reason createdAt labels { key value } artifacts { type size sha256 status reason } references { kind id }';

interface ImageDetail extends PushedImage {
  createdAt: string;
  labels: { key: string; value: string }[];
  references: { kind: string; id: string }[];
}

export function registerImageCommands(program: Command, io: CliIo): void {
  const image = program.command('image').description('OS images: push, list, show, delete');

  image
    .command('push')
    .description('hash, upload (resumable) and verify an image; prints its id')
    .requiredOption('--name <name>', 'image name')
    .requiredOption('--version <version>', 'image version (name + version is unique)')
    .requiredOption('--arch <arch>', 'x86_64, aarch64/arm64 or other')
    .requiredOption('--kernel <file>', 'kernel')
    .option('--initrd <file>', 'initrd')
    .option('--rootfs <file>', 'root filesystem (squashfs)')
    .option('--boot-parameters <file>', 'optional boot-parameters file')
    .option('--label <key=value>', 'label (repeatable)', collect, [])
    .option('--concurrency <n>', 'parallel part uploads', '4')
    .option('--json', 'print a JSON object on stdout')
    .action(async (o: { name: string; version: string; arch: string; kernel: string; initrd?: string; rootfs?: string; bootParameters?: string; label: string[]; concurrency: string; json?: boolean }) => {
      const files: PushOptions['files'] = [{ type: 'KERNEL', path: o.kernel }];
      if (o.initrd) files.push({ type: 'INITRD', path: o.initrd });
      if (o.rootfs) files.push({ type: 'ROOTFS_SQUASHFS', path: o.rootfs });
      if (o.bootParameters) files.push({ type: 'BOOT_PARAMETERS', path: o.bootParameters });
      const run = pushImage(io.gql, {
        name: o.name,
        version: o.version,
        arch: o.arch,
        files,
        labels: o.label.map(parseLabel),
        concurrency: Number(o.concurrency),
        progress: io.tty && !o.json,
        log: io.err,
        ...(io.signal ? { signal: io.signal } : {}),
      });
      // A FAILED image still prints its JSON (status and reason) before the non-zero exit.
      const result = await run.catch((err: Error & { result?: unknown }) => {
        if (o.json && err.result) io.out(JSON.stringify(err.result));
        throw err;
      });
      if (o.json) io.out(JSON.stringify(result));
      else {
        io.err(`image ${result.name} ${result.version} is ${result.status} (${result.seconds.toFixed(1)} s)`);
        io.out(result.id);
      }
    });

  image
    .command('list')
    .description('list images (newest first per name)')
    .option('--name <name>')
    .option('--arch <arch>')
    .option('--label <key=value>')
    .option('--status <status>', 'UPLOADING, VERIFYING, READY or FAILED')
    .option('--first <n>', 'page size', '100')
    .option('--json')
    .action(async (o: { name?: string; arch?: string; label?: string; status?: string; first: string; json?: boolean }) => {
      const filter = {
        ...(o.name ? { name: o.name } : {}),
        ...(o.arch ? { arch: mapArch(o.arch) } : {}),
        ...(o.label ? { label: parseLabel(o.label) } : {}),
        ...(o.status ? { status: o.status.toUpperCase() } : {}),
      };
      const data = await io.gql<{ images: { edges: { node: ImageDetail }[] } }>(`query($filter: ImageFilter, $first: Int) { images(filter: $filter, first: $first) { edges { node { ${IMAGE} } } } }`, {
        filter,
        first: Number(o.first),
      });
      const nodes = data.images.edges.map((e) => e.node);
      if (o.json) return io.out(JSON.stringify(nodes));
      table(
        [['ID', 'NAME', 'VERSION', 'ARCH', 'STATUS', 'SIZE', 'LABELS'], ...nodes.map((i) => [i.id, i.name, i.version, i.arch, i.status, formatBytes(i.artifacts.reduce((n, a) => n + a.size, 0)), i.labels.map((l) => `${l.key}=${l.value}`).join(',')])],
        io.out,
      );
    });

  image
    .command('show <id>')
    .description('one image with its artifacts and references')
    .option('--json')
    .action(async (id: string, o: { json?: boolean }) => {
      const { image: i } = await io.gql<{ image: ImageDetail | null }>(`query($id: ID!) { image(id: $id) { ${IMAGE} } }`, { id });
      if (!i) throw new CliError(`image ${id} not found`);
      if (o.json) return io.out(JSON.stringify(i));
      io.out(`${i.name} ${i.version} (${i.arch})  ${i.status}${i.reason ? `: ${i.reason}` : ''}`);
      io.out(`id ${i.id}  created ${i.createdAt}  labels ${i.labels.map((l) => `${l.key}=${l.value}`).join(',') || '-'}`);
      table([['TYPE', 'SIZE', 'STATUS', 'SHA256'], ...i.artifacts.map((a) => [a.type, formatBytes(a.size), a.status + (a.reason ? ` (${a.reason})` : ''), a.sha256])], io.out);
      if (i.references.length) io.out(`used by: ${i.references.map((r) => `${r.kind.toLowerCase()} ${r.id}`).join(', ')}`);
    });

  image
    .command('delete <id>')
    .description('delete an image (refused while a boot configuration or session uses it)')
    .action(async (id: string) => {
      await io.gql(`mutation($id: ID!) { deleteImage(id: $id) }`, { id });
      io.err(`deleted image ${id}`);
    });
}
