/**
 * A short, fixed-seed slice of bench/fuzz: each parser that faces the site LAN or a BMC gets a
 * few thousand coverage-guided cases through the product's real entry points. No crash (an
 * error other than the parser's documented bad-input error, or a broken invariant), no hang
 * (a case over 1 s), and the mutations must reach code the seeds alone do not.
 * The Redfish target reads the real BMC mockups from ../shared/redfish-mockups and fails
 * naming that path when they are absent.
 *
 * Each slice runs bench/fuzz/run.ts in a child process of its own. V8's precise coverage is
 * taken over every script the process holds, so inside a Jest worker that already ran other
 * suites each take walks thousands of their scripts too (the slice went from 10 s alone to
 * over 60 s per target in the full run); a fresh process holds only the product's modules.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

interface SliceResult { target: string; cases: number; crashes: number; hangs: number; paths: number; seedPaths: number; corpus: number; findings: Array<{ kind: string; message: string }> }

describe.each([
  ['dhcp', 3000],
  ['tftp', 3000],
  ['http', 1000],
  ['redfish', 1000],
] as const)('fuzz slice: %s', (name, cases) => {
  it(`runs ${cases} cases with no crash or hang, and reaches code the seeds do not`, async () => {
    const out = mkdtempSync(join(tmpdir(), `skyboot-fuzz-slice-${name}-`));
    try {
      const args = ['--import', 'tsx', 'bench/fuzz/run.ts', '--target', name, '--cases', String(cases), '--seed', '20261202', '--batch', '250', '--out', out];
      // Exit code 1 means a crash or hang: the report below names it, so read the file either way.
      await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 }).catch((err: { code?: number; stderr?: string }) => {
        if (err.code !== 1) throw new Error(`bench/fuzz/run.ts --target ${name} failed: ${String(err.stderr ?? err)}`);
      });
      const [r] = (JSON.parse(readFileSync(join(out, 'fuzz.json'), 'utf8')) as { results: SliceResult[] }).results;
      expect(r?.target).toBe(name);
      expect(r!.cases).toBe(cases);
      expect(JSON.stringify({ crashes: r!.crashes, hangs: r!.hangs, first: r!.findings[0]?.message ?? null })).toBe(JSON.stringify({ crashes: 0, hangs: 0, first: null }));
      expect(r!.paths).toBeGreaterThan(r!.seedPaths);
      expect(r!.corpus).toBeGreaterThan(0);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
