/** Plain-text tables for humans; --json prints the raw objects instead. */
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
