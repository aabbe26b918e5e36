/**
 * The TFTP server in processes of its own, as `skyboot-agent run` starts it: the real program
 * (bin/skyboot-agent.js tftp-serve) as the child, with two node:cluster workers sharing its port,
 * fetched from by the TFTP client. A killed worker is started again by the TFTP process, a killed
 * TFTP process by the agent's side, on the same port, with the counters kept.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tftpGet } from '../../../onprem-agent/pxe/tftp/client.js';
import { pidsMatching } from '../../support/pids.js';
import { startTftpProcess } from '../../../onprem-agent/pxe/tftp/tftpProcess.js';
import type { TftpServer, TftpTransferEnded } from '../../../onprem-agent/pxe/tftp/server.js';

const BIN = resolve('bin/skyboot-agent.js');

/** The parent pid, from /proc (field 4 of stat, after the command in parentheses). */
const parentOf = (pid: number): number => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);

describe('TFTP served from a child process of the agent program, by two workers', () => {
  const root = mkdtempSync(join(tmpdir(), 'tftp-process-'));
  copyFileSync('test/integration/pxe/fixtures/dhcp-server.ts', join(root, 'boot.bin'));
  const expected = readFileSync(join(root, 'boot.bin'));
  const transfers: TftpTransferEnded[] = [];
  let server: TftpServer;
  beforeAll(async () => {
    server = await startTftpProcess({ entry: [BIN], options: { root, address: '127.0.0.1', port: 0, workers: 2 }, onTransfer: (t) => transfers.push(t) });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** The TFTP process (a child of this one) and its workers (its children). */
  const processes = (): { primary: number[]; workers: number[] } => {
    const all = pidsMatching(`tftp-serve .*${root}`);
    return { primary: all.filter((p) => parentOf(p) === process.pid), workers: all.filter((p) => parentOf(p) !== process.pid) };
  };
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 100 && !ok(); i++) await new Promise((r) => setTimeout(r, 100));
    if (!ok()) throw new Error(`timed out waiting for ${what}`);
  };
  const fetchUntilServed = async (port: number): Promise<Buffer | null> => {
    let got: Buffer | null = null;
    for (let i = 0; i < 50 && !got; i++) got = await tftpGet('127.0.0.1', port, 'boot.bin', { blksize: 1468, timeoutMs: 300, retries: 2 }).then((r) => r.data, () => null);
    return got;
  };

  it('serves 8 transfers at once on the workers\' shared port, reports each to the agent, and counts them', async () => {
    const { port } = server.address();
    expect(port).toBeGreaterThan(0);
    const { primary, workers } = processes();
    expect(primary).toHaveLength(1);
    expect(workers).toHaveLength(2);
    expect(workers.map(parentOf)).toEqual([primary[0], primary[0]]);

    const got = await Promise.all(Array.from({ length: 8 }, () => tftpGet('127.0.0.1', port, 'boot.bin', { blksize: 1468 })));
    expect(got.every((g) => g.data.equals(expected))).toBe(true);
    await until('8 completed transfers in the counters', () => server.stats().completed === 8);
    expect(transfers).toHaveLength(8);
    expect(transfers[0]).toEqual({ client: '127.0.0.1', file: 'boot.bin', ok: true, bytes: expected.length });
    expect(server.stats()).toMatchObject({ started: 8, completed: 8, failed: 0, bytesSent: 8 * expected.length });
  });

  it('starts a killed worker again, and the port keeps serving', async () => {
    const { port } = server.address();
    const { workers } = processes();
    process.kill(workers[0]!, 'SIGKILL');
    await until('a new worker', () => {
      const now = processes().workers;
      return now.length === 2 && !now.includes(workers[0]!);
    });
    expect((await fetchUntilServed(port))?.equals(expected)).toBe(true);
    await until('9 completed transfers', () => server.stats().completed === 9);
  });

  it('starts a killed TFTP process again on the same port and keeps its counters', async () => {
    const { port } = server.address();
    const [pid] = processes().primary;
    process.kill(pid!, 'SIGKILL');
    await until('a new TFTP process with two workers', () => {
      const now = processes();
      return now.primary.length === 1 && now.primary[0] !== pid && now.workers.length === 2;
    });
    expect((await fetchUntilServed(port))?.equals(expected)).toBe(true);
    expect(server.address().port).toBe(port);
    await until('10 completed transfers', () => server.stats().completed === 10);
    expect(server.stats()).toMatchObject({ completed: 10, bytesSent: 10 * expected.length });
  }, 60_000);
});
