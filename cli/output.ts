/**
 * The CLI's one output module: tables for humans (default columns, or every column with
 * `-o wide`), and `-o json|yaml|csv` for scripts; `--no-headers` drops the header row of tables
 * and CSV. JSON and YAML print the objects the API returned, not the table's text.
 */
import { Option, type Command } from 'commander';

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface OutputOptions {
  output?: OutputFormat;
  /** commander's `--no-headers` sets headers false. */
  headers?: boolean;
  /** The older `--json` flag, kept: the same as `-o json`. */
  json?: boolean;
}

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | null | undefined;
  /** Shown only with `-o wide` (and in CSV, which has every column). */
  wide?: boolean;
}

/** Adds `-o/--output` and `--no-headers` to a command. */
export function withOutput(cmd: Command): Command {
  return cmd
    .addOption(new Option('-o, --output <format>', 'output format').choices([...OUTPUT_FORMATS]).default('table'))
    .option('--no-headers', 'omit the header row (tables and CSV)');
}

export function formatOf(o: OutputOptions): OutputFormat {
  return o.json ? 'json' : (o.output ?? 'table');
}

/** True when the caller asked for data rather than a human summary (messages then go to stderr only). */
export function isMachineFormat(o: OutputOptions): boolean {
  return ['json', 'yaml', 'csv'].includes(formatOf(o));
}

function cell(v: string | number | boolean | null | undefined): string {
  return v === null || v === undefined || v === '' ? '-' : String(v);
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A YAML serializer loaded only when asked for: most runs never need it. */
async function toYaml(data: unknown): Promise<string> {
  const { stringify } = await import('yaml');
  return stringify(data).replace(/\n$/, '');
}

/** Prints `rows` (a list, or one object with `single`) in the format `o` asks for. */
export async function render<T>(rows: T[], columns: Column<T>[], o: OutputOptions, out: (line: string) => void, single = false): Promise<void> {
  const format = formatOf(o);
  const data = single ? rows[0] : rows;
  if (format === 'json') return out(JSON.stringify(data, null, 2));
  if (format === 'yaml') return out(await toYaml(data));
  const cols = format === 'table' ? columns.filter((c) => !c.wide) : columns;
  if (format === 'csv') {
    if (o.headers !== false) out(cols.map((c) => csvField(c.header)).join(','));
    for (const r of rows) out(cols.map((c) => { const v = c.value(r); return csvField(v === null || v === undefined ? '' : String(v)); }).join(','));
    return;
  }
  const body = rows.map((r) => cols.map((c) => cell(c.value(r))));
  table(o.headers === false ? body : [cols.map((c) => c.header), ...body], out);
}

/** Plain-text table: columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][], out: (line: string) => void): void {
  if (!rows.length) return;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) out(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseLabel(raw: string): { key: string; value: string } {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new Error(`--label: "${raw}" is not key=value`);
  return { key: raw.slice(0, eq), value: raw.slice(eq + 1) };
}
