/** Runs wrk against a URL and reads back requests/s and latency percentiles. */
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface WrkResult {
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  requests: number;
  non2xx: number;
}

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) throw new Error(`cannot read wrk latency "${value}"`);
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60000;
}

export function parseWrk(out: string): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = /^\s+50%\s+(\S+)/m.exec(out);
  const p99 = /^\s+99%\s+(\S+)/m.exec(out);
  const total = /(\d+) requests in/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  if (!rps || !p50 || !p99 || !total) throw new Error(`unexpected wrk output:\n${out}`);
  return { requestsPerSecond: Number(rps[1]), p50ms: ms(p50[1]!), p99ms: ms(p99[1]!), requests: Number(total[1]), non2xx: non2xx ? Number(non2xx[1]) : 0 };
}

/** `lua` is a wrk script (request(), headers, body); it runs with --latency. */
export async function wrk(url: string, opts: { seconds: number; connections: number; threads?: number; lua?: string }): Promise<WrkResult> {
  const args = ['-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency'];
  if (opts.lua) {
    const file = join(mkdtempSync(join(tmpdir(), 'wrk-')), 'script.lua');
    writeFileSync(file, opts.lua);
    args.push('-s', file);
  }
  const { stdout } = await run('wrk', [...args, url], { maxBuffer: 1 << 20 });
  return parseWrk(stdout);
}

export function luaString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
