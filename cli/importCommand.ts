/**
 * `skyboot component import <file>`: components from CSV, JSON (an array or one object per
 * line) or YAML (a top-level sequence), streamed record by record and sent in upsertComponents
 * batches, so a file of any size costs one batch of memory. Every batch that completes is noted
 * in a checkpoint file (written atomically), so a run that is interrupted resumes after the last
 * completed batch; re-sending one is harmless (an upsert of stored content writes nothing).
 * Refused records are reported by their row in the file (CSV: line; JSON/YAML: element, 1-based).
 */
import { createReadStream } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parseXName } from '../schema/xname.js';
import { writeFileAtomic } from '../onprem-agent/sync/atomicFile.js';
import { CliError } from './client.js';
import type { CliIo } from './imageCommands.js';
import { progressBar } from './progress.js';

export type ImportFormat = 'csv' | 'json' | 'yaml';
export const DEFAULT_IMPORT_BATCH = 1000;

/** One record of the file: its row (for messages) and the ComponentInput it makes. */
export interface ImportRecord {
  row: number;
  input: Record<string, unknown>;
  /** Bytes of the file consumed up to and including this record (progress). */
  offset: number;
}

export interface RowError {
  row: number;
  xname: string | null;
  path: string;
  message: string;
}

export interface ImportSummary {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  /** Rows skipped because an earlier run's checkpoint covered them. */
  resumedAfterRow: number;
  batches: number;
  errors: RowError[];
}

interface Checkpoint {
  file: string;
  size: number;
  mtimeMs: number;
  rowsDone: number;
  summary: Omit<ImportSummary, 'errors' | 'batches' | 'resumedAfterRow'>;
  errors: RowError[];
}

export function formatOf(path: string, explicit?: string): ImportFormat {
  const f = (explicit ?? path.split('.').pop() ?? '').toLowerCase();
  if (f === 'csv') return 'csv';
  if (f === 'json' || f === 'jsonl' || f === 'ndjson') return 'json';
  if (f === 'yaml' || f === 'yml') return 'yaml';
  throw new CliError(`${path}: cannot tell the format from the name; give --format csv|json|yaml`, { exitCode: 2 });
}

/** Lines with their byte offsets after each (newline included). */
async function* lines(path: string): AsyncGenerator<{ line: string; offset: number; number: number }> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  let offset = 0;
  let number = 0;
  for await (const line of rl) {
    offset += Buffer.byteLength(line) + 1;
    yield { line, offset, number: ++number };
  }
}

/** One CSV line into cells (RFC 4180 quoting within a line). */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      cells.push(cur);
      cur = '';
    }
    else cur += ch;
  }
  cells.push(cur);
  return cells.map((c) => c.trim());
}

const CSV_NUMBERS = new Set(['nid']);
const CSV_BOOLEANS = new Set(['enabled']);
/** Interface columns: one interface per row (mac, ip: `;`-separated addresses, network). */
const CSV_INTERFACE = new Set(['mac', 'ip', 'network']);

/** A CSV row as a ComponentInput; the header names ComponentInput fields (groups `;`-separated). */
export function csvRecord(header: string[], cells: string[], row: number): Record<string, unknown> {
  if (cells.length > header.length) throw new CliError(`row ${row}: ${cells.length} cells, the header has ${header.length}`, { exitCode: 1 });
  const input: Record<string, unknown> = {};
  const iface: Record<string, unknown> = {};
  header.forEach((h, i) => {
    const v = cells[i] ?? '';
    if (v === '') return;
    if (CSV_INTERFACE.has(h)) iface[h === 'ip' ? 'ipAddresses' : h] = h === 'ip' ? v.split(';').map((s) => s.trim()) : v;
    else if (CSV_NUMBERS.has(h)) input[h] = Number(v);
    else if (CSV_BOOLEANS.has(h)) input[h] = /^(true|yes|1)$/i.test(v);
    else if (h === 'groups') input[h] = v.split(';').map((s) => s.trim());
    else input[h] = v;
  });
  if (Object.keys(iface).length) input.interfaces = [iface];
  return input;
}

async function* csvRecords(path: string): AsyncGenerator<ImportRecord> {
  let header: string[] | null = null;
  for await (const { line, offset, number } of lines(path)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    if (!header) {
      header = csvCells(line);
      continue;
    }
    yield { row: number, input: csvRecord(header, csvCells(line), number), offset };
  }
}

/**
 * A JSON array's elements one at a time (or, when the file does not start with `[`, one JSON
 * value per line): a scanner tracks depth and strings, so no more than one element is held.
 */
async function* jsonRecords(path: string): AsyncGenerator<ImportRecord> {
  let mode: 'unknown' | 'array' | 'lines' = 'unknown';
  let depth = 0;
  let ended = false;
  let inString = false;
  let escaped = false;
  let buf = '';
  let row = 0;
  for await (const { line, offset } of lines(path)) {
    if (mode === 'unknown') {
      const t = line.trimStart();
      if (t === '') continue;
      mode = t.startsWith('[') ? 'array' : 'lines';
    }
    if (mode === 'lines') {
      if (line.trim() !== '') yield { row: ++row, input: JSON.parse(line) as Record<string, unknown>, offset };
      continue;
    }
    const elements: string[] = [];
    for (const ch of `${line}\n`) {
      if (inString) {
        buf += ch;
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
      } else if (depth === 0) {
        if (ch === '[' && !ended) depth = 1;
      } else if (ch === ',' && depth === 1) {
        elements.push(buf);
        buf = '';
      } else if ((ch === ']' || ch === '}') && --depth === 0) {
        elements.push(buf);
        buf = '';
        ended = true;
      } else {
        if (ch === '"') inString = true;
        if (ch === '[' || ch === '{') depth++;
        buf += ch;
      }
    }
    for (const e of elements) if (e.trim()) yield { row: ++row, input: JSON.parse(e) as Record<string, unknown>, offset };
  }
  if (buf.trim()) throw new CliError(`${path}: the JSON array is not closed`, { exitCode: 1 });
}

/** A top-level YAML sequence, one `- ` item at a time (an item is the lines up to the next top-level `- `). */
async function* yamlRecords(path: string): AsyncGenerator<ImportRecord> {
  let item: string[] = [];
  let row = 0;
  let offset = 0;
  const flush = (): ImportRecord | null => {
    if (!item.length) return null;
    const parsed = parseYaml(item.join('\n')) as unknown;
    item = [];
    const value = Array.isArray(parsed) ? parsed[0] : parsed;
    return { row: ++row, input: (value ?? {}) as Record<string, unknown>, offset };
  };
  for await (const l of lines(path)) {
    if (/^-(\s|$)/.test(l.line)) {
      const r = flush();
      if (r) yield r;
    } else if (!item.length && (l.line.trim() === '' || l.line.startsWith('#') || l.line.startsWith('---'))) {
      offset = l.offset;
      continue;
    }
    item.push(l.line);
    offset = l.offset;
  }
  const r = flush();
  if (r) yield r;
}

export function importRecords(path: string, format: ImportFormat): AsyncGenerator<ImportRecord> {
  return format === 'csv' ? csvRecords(path) : format === 'json' ? jsonRecords(path) : yamlRecords(path);
}

const UPSERT = `mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { created updated unchanged failed errors { index path xname message } errorsOmitted } }`;

interface UpsertAnswer {
  upsertComponents: { created: number; updated: number; unchanged: number; failed: number; errors: { index: number; path: string; xname: string; message: string }[]; errorsOmitted: number };
}

/** A failure of the service, not of the records: the same batch is sent again (an upsert is idempotent). */
const TRANSIENT = /^(INTERNAL_SERVER_ERROR|cannot reach|.*answered HTTP 5\d\d)/;
const BATCH_ATTEMPTS = 4;

async function upsertWithRetries(io: CliIo, batch: ImportRecord[]): Promise<UpsertAnswer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await io.gql<UpsertAnswer>(UPSERT, { in: batch.map((r) => r.input) });
    } catch (err) {
      if (attempt >= BATCH_ATTEMPTS || !TRANSIENT.test((err as Error).message)) throw err;
      io.err(`batch from row ${batch[0]!.row}: ${(err as Error).message.split('\n')[0]}; sending it again (attempt ${attempt + 1} of ${BATCH_ATTEMPTS})`);
      await new Promise((r) => setTimeout(r, 1000 * 2 ** (attempt - 1)));
    }
  }
}

/** Rows in `path` (the request's `input[i]`) renamed to the file's row. */
const rowPath = (path: string, i: number) => path.replace(/^input\[\d+\]/, `input[${i}]`);

/**
 * Sends one batch. A request GraphQL refuses as a whole (a value its types reject, such as an
 * unknown enum) is split in halves until the refused records stand alone, so one bad row never
 * costs the others.
 */
async function sendBatch(io: CliIo, batch: ImportRecord[], summary: ImportSummary): Promise<void> {
  let answer: UpsertAnswer;
  try {
    answer = await upsertWithRetries(io, batch);
  } catch (err) {
    const message = (err as Error).message;
    if (!/BAD_USER_INPUT|GRAPHQL_VALIDATION_FAILED|Variable "\$in"|got invalid value/i.test(message)) throw err;
    if (batch.length === 1) {
      summary.failed++;
      summary.errors.push({ row: batch[0]!.row, xname: typeof batch[0]!.input.xname === 'string' ? batch[0]!.input.xname : null, path: 'input', message: message.replace(/^.*?Variable "\$in" got invalid value .*?; /, '') });
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await sendBatch(io, batch.slice(0, half), summary);
    await sendBatch(io, batch.slice(half), summary);
    return;
  }
  const a = answer.upsertComponents;
  summary.created += a.created;
  summary.updated += a.updated;
  summary.unchanged += a.unchanged;
  summary.failed += a.failed;
  for (const e of a.errors) summary.errors.push({ row: batch[e.index]!.row, xname: e.xname, path: rowPath(e.path, e.index), message: e.message });
  if (a.errorsOmitted) summary.errors.push({ row: batch[0]!.row, xname: null, path: 'input', message: `${a.errorsOmitted} more refused records in the batch starting at row ${batch[0]!.row} (not listed by the server)` });
}

/** A record the client can refuse before sending (xname syntax), so the batch's other records still go. */
function localError(r: ImportRecord): RowError | null {
  const x = r.input.xname;
  if (typeof x !== 'string' || x === '') return { row: r.row, xname: null, path: `input.xname`, message: 'missing' };
  try {
    parseXName(x, 'xname');
  } catch (err) {
    return { row: r.row, xname: x, path: 'input.xname', message: (err as Error).message };
  }
  return null;
}

export interface ImportOptions {
  format: ImportFormat;
  batch: number;
  site?: string;
  checkpoint: string;
  restart: boolean;
  progress: boolean;
}

export async function importComponents(io: CliIo, path: string, o: ImportOptions): Promise<ImportSummary> {
  const st = await stat(path).catch(() => {
    throw new CliError(`${path}: no such file`, { exitCode: 1 });
  });
  let done = 0;
  const summary: ImportSummary = { rows: 0, created: 0, updated: 0, unchanged: 0, failed: 0, resumedAfterRow: 0, batches: 0, errors: [] };
  if (!o.restart) {
    const cp = await readFile(o.checkpoint, 'utf8').then((t) => JSON.parse(t) as Checkpoint, () => null);
    if (cp && cp.file === path && cp.size === st.size && cp.mtimeMs === st.mtimeMs) {
      done = cp.rowsDone;
      Object.assign(summary, cp.summary, { errors: cp.errors, resumedAfterRow: cp.rowsDone });
    } else if (cp) throw new CliError(`${o.checkpoint}: a checkpoint of another file or version (${cp.file}, ${cp.size} bytes); give --restart to start over`, { exitCode: 2 });
  }
  const bar = progressBar(`import ${path}`, st.size, o.progress);
  let batch: ImportRecord[] = [];
  let sentTo = 0;
  let checkpointRow = done;
  const flush = async (last: ImportRecord | undefined) => {
    if (batch.length) {
      await sendBatch(io, batch, summary);
      summary.batches++;
    }
    batch = [];
    if (!last) return;
    const offset = Number.isFinite(last.offset) ? last.offset : st.size;
    bar.add(offset - sentTo);
    sentTo = offset;
    const { errors, batches: _b, resumedAfterRow: _r, ...counts } = summary;
    await writeFileAtomic(o.checkpoint, JSON.stringify({ file: path, size: st.size, mtimeMs: st.mtimeMs, rowsDone: last.row, summary: counts, errors } satisfies Checkpoint));
    checkpointRow = last.row;
  };
  let last: ImportRecord | undefined;
  for await (const r of importRecords(path, o.format)) {
    if (r.row <= done) {
      sentTo = Number.isFinite(r.offset) ? r.offset : st.size;
      continue;
    }
    if (io.signal?.aborted) break;
    summary.rows++;
    last = r;
    if (o.site && r.input.site === undefined) r.input.site = o.site;
    const refused = localError(r);
    if (refused) {
      summary.failed++;
      summary.errors.push(refused);
      continue;
    }
    batch.push(r);
    if (batch.length >= o.batch) await flush(last);
  }
  if (io.signal?.aborted) {
    bar.done();
    throw new CliError(`interrupted: rows up to ${checkpointRow} are imported; run the same command again to resume from the checkpoint ${o.checkpoint}`, { exitCode: 1 });
  }
  await flush(last);
  bar.done();
  await rm(o.checkpoint, { force: true });
  return summary;
}

/** Adds `import` to the `component` command (creating the group when no other module has). */
export function registerImportCommand(program: Command, io: CliIo): void {
  const component = program.commands.find((c) => c.name() === 'component') ?? program.command('component').description('inventory components (HSM)');
  component
    .command('import <file>')
    .description('upsert components from a CSV, JSON or YAML file of any size, in batches, resumable after an interruption')
    .option('--format <f>', 'csv, json or yaml (default: from the file name)')
    .option('--site <name>', 'site for records that name none')
    .option('--batch <n>', `records per upsertComponents call (1-${DEFAULT_IMPORT_BATCH * 5})`, String(DEFAULT_IMPORT_BATCH))
    .option('--checkpoint <path>', 'where progress is kept (default: <file>.import-checkpoint)')
    .option('--restart', 'ignore an existing checkpoint and start from the first row')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { format?: string; site?: string; batch: string; checkpoint?: string; restart?: boolean; json?: boolean }) => {
      const batch = Number(opts.batch);
      if (!Number.isInteger(batch) || batch < 1 || batch > DEFAULT_IMPORT_BATCH * 5) throw new CliError(`--batch: "${opts.batch}" is not an integer from 1 to ${DEFAULT_IMPORT_BATCH * 5}`, { exitCode: 2 });
      const s = await importComponents(io, file, {
        format: formatOf(file, opts.format),
        batch,
        ...(opts.site ? { site: opts.site } : {}),
        checkpoint: opts.checkpoint ?? `${file}.import-checkpoint`,
        restart: Boolean(opts.restart),
        progress: io.tty && !opts.json,
      });
      if (opts.json) io.out(JSON.stringify(s));
      else {
        io.out(`${s.rows} rows: ${s.created} created, ${s.updated} updated, ${s.unchanged} unchanged, ${s.failed} failed${s.resumedAfterRow ? ` (resumed after row ${s.resumedAfterRow})` : ''}`);
        for (const e of s.errors) io.err(`row ${e.row}${e.xname ? ` (${e.xname})` : ''}: ${e.path}: ${e.message}`);
      }
      if (s.failed) throw new CliError(`${s.failed} of ${s.rows} rows refused`, { exitCode: 1 });
    });
}
