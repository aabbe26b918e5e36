/**
 * 500 concurrent TFTP fetches of ipxe.efi: our server against tftpd-hpa (in.tftpd), both on
 * 127.0.0.1 in the same run, each in its own process, driven by the same client (this
 * process) with blksize 1468 and no windowsize, since tftpd-hpa does not implement RFC 7440.
 * Prints transfers/s and the ratio; writes bench/out/pxe-tftp.json.
 *   node --import tsx bench/pxe/tftp.ts [--concurrency 500] [--rounds 3]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tftpGet } from '../../onprem-agent/pxe/tftp/client.js';
import { freeUdpPort } from '../../test/support/ports.js';
import { numberArg } from '../support/args.js';

const CONCURRENCY = numberArg('concurrency', 500);
const ROUNDS = numberArg('rounds', 2);
const FILE = 'ipxe.efi';
const BLKSIZE = 1468;

function waitLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!.trim());
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code} before it listened`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

interface Round { seconds: number; ok: number; failed: number; transfersPerSecond: number }

async function round(port: number, expected: Buffer, windowsize?: number): Promise<Round> {
  const start = process.hrtime.bigint();
  const results = await Promise.allSettled(Array.from({ length: CONCURRENCY }, () =>
    tftpGet('127.0.0.1', port, FILE, { blksize: BLKSIZE, timeoutMs: 1000, retries: 8, deadlineMs: 60000, ...(windowsize ? { windowsize } : {}) })));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  process.stderr.write(`round on :${port}${windowsize ? ` windowsize ${windowsize}` : ''}: ${seconds.toFixed(2)} s\n`);
  const ok = results.filter((r) => r.status === 'fulfilled' && r.value.data.equals(expected)).length;
  return { seconds, ok, failed: CONCURRENCY - ok, transfersPerSecond: ok / seconds };
}

function best(rounds: Round[]): Round {
  return rounds.reduce((a, b) => (b.transfersPerSecond > a.transfersPerSecond ? b : a));
}

const root = mkdtempSync(join(tmpdir(), 'skyboot-bench-tftp-'));
chmodSync(root, 0o755); // in.tftpd drops privileges before reading
const children: ChildProcess[] = [];
try {
  copyFileSync('/usr/lib/ipxe/ipxe.efi', join(root, FILE));
  chmodSync(join(root, FILE), 0o644);
  const expected = readFileSync(join(root, FILE));

  const ours = spawn(process.execPath, ['--import', 'tsx', 'bench/pxe/tftpServer.ts', root, String(CONCURRENCY * 2)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SKYBOOT_LOG_LEVEL: 'error' } });
  children.push(ours);
  const oursPort = Number(await waitLine(ours));

  const hpaPort = await freeUdpPort();
  const hpa = spawn('in.tftpd', ['--foreground', '--listen', '--address', `127.0.0.1:${hpaPort}`, '--secure', '--user', 'nobody', root], { stdio: ['ignore', 'ignore', 'inherit'] });
  hpa.once('error', (err) => { throw new Error(`in.tftpd (Debian package tftpd-hpa) could not start: ${err.message}`); });
  children.push(hpa);
  await new Promise((r) => setTimeout(r, 500));

  const oursRounds: Round[] = [];
  const hpaRounds: Round[] = [];
  await round(oursPort, expected); // warm-up: JIT and the file cache (tftpd-hpa has neither)
  for (let i = 0; i < ROUNDS; i++) {
    oursRounds.push(await round(oursPort, expected));
    hpaRounds.push(await round(hpaPort, expected));
  }
  const windowed = await round(oursPort, expected, 16);
  const o = best(oursRounds);
  const h = best(hpaRounds);
  const figures = {
    bench: 'pxe-tftp',
    file: FILE,
    bytes: expected.length,
    concurrency: CONCURRENCY,
    blksize: BLKSIZE,
    rounds: ROUNDS,
    skyboot: { transfersPerSecond: +o.transfersPerSecond.toFixed(1), seconds: +o.seconds.toFixed(2), failed: o.failed, all: oursRounds.map((r) => +r.transfersPerSecond.toFixed(1)) },
    tftpdHpa: { transfersPerSecond: +h.transfersPerSecond.toFixed(1), seconds: +h.seconds.toFixed(2), failed: h.failed, all: hpaRounds.map((r) => +r.transfersPerSecond.toFixed(1)) },
    ratio: +(o.transfersPerSecond / h.transfersPerSecond).toFixed(2),
    skybootWindowsize16: { transfersPerSecond: +windowed.transfersPerSecond.toFixed(1), failed: windowed.failed },
    at: new Date().toISOString(),
  };
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/pxe-tftp.json', `${JSON.stringify(figures, null, 2)}\n`);
  console.log(JSON.stringify(figures, null, 2));
  console.log(`TFTP ${CONCURRENCY} concurrent fetches of ${FILE}: skyboot ${figures.skyboot.transfersPerSecond}/s, tftpd-hpa ${figures.tftpdHpa.transfersPerSecond}/s, ratio ${figures.ratio}`);
} finally {
  for (const c of children) await stop(c);
  rmSync(root, { recursive: true, force: true });
}
