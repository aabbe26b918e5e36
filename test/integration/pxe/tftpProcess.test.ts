/**
 * The TFTP server in its own process, as `skyboot-agent run` starts it: the real program
 * (bin/skyboot-agent.js tftp-serve) as the child, fetched from by the TFTP client; a child killed
 * with SIGKILL is started again on the same port, its counters kept.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { tftpGet } from '../../../onprem-agent/pxe/tftp/client.js';
import { pidsMatching } from '../../support/pids.js';
import { startTftpProcess } from '../../../onprem-agent/pxe/tftp/tftpProcess.js';
import type { TftpServer, TftpTransferEnded } from '../../../onprem-agent/pxe/tftp/server.js';

const BIN = resolve('bin/skyboot-agent.js');

describe('TFTP served from a child process of the agent program', () => {
  const root = mkdtempSync(join(tmpdir(), 'tftp-process-'));
  copyFileSync('test/integration/pxe/fixtures/dhcp-server.ts', join(root, 'boot.bin'));
  const expected = readFileSync(join(root, 'boot.bin'));
  const transfers: TftpTransferEnded[] = [];
  let server: TftpServer;
  beforeAll(async () => {
    server = await startTftpProcess({ entry: [BIN], options: { root, address: '127.0.0.1', port: 0 }, onTransfer: (t) => transfers.push(t) });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const childPids = (): number[] => pidsMatching(`tftp-serve .*${root}`);
  const statsSettle = async (completed: number) => {
    for (let i = 0; i < 40 && server.stats().completed < completed; i++) await new Promise((r) => setTimeout(r, 100));
  };

  it('serves files, reports each transfer to the agent, and counts them', async () => {
    const { port } = server.address();
    expect(port).toBeGreaterThan(0);
    const got = await tftpGet('127.0.0.1', port, 'boot.bin', { blksize: 1468 });
    expect(got.data.equals(expected)).toBe(true);
    await statsSettle(1);
    expect(transfers).toEqual([{ client: '127.0.0.1', file: 'boot.bin', ok: true, bytes: expected.length }]);
    expect(server.stats()).toMatchObject({ started: 1, completed: 1, bytesSent: expected.length });
    expect(childPids()).toHaveLength(1);
  });

  it('starts a killed child again on the same port and keeps its counters', async () => {
    const { port } = server.address();
    const [pid] = childPids();
    process.kill(pid!, 'SIGKILL');
    let again: number[] = [];
    for (let i = 0; i < 100; i++) {
      again = childPids().filter((p) => p !== pid);
      if (again.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again).toHaveLength(1);
    let got: Buffer | null = null;
    for (let i = 0; i < 50 && !got; i++) {
      got = await tftpGet('127.0.0.1', port, 'boot.bin', { blksize: 1468, timeoutMs: 300, retries: 2 }).then((r) => r.data, () => null);
    }
    expect(got?.equals(expected)).toBe(true);
    expect(server.address().port).toBe(port);
    await statsSettle(2);
    expect(server.stats()).toMatchObject({ completed: 2, bytesSent: 2 * expected.length });
  }, 60_000);
});
