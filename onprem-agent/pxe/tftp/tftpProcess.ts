/**
 * The TFTP server in a process of its own, as `skyboot-agent run` starts it. TFTP is lock-step:
 * each 1,468-byte block waits for its ACK, so a transfer is as fast as the server's turnaround.
 * In the agent's own event loop that turnaround waits behind whatever else runs there (in a boot
 * storm, gigabytes of kernels and initrds going out over HTTP), and TFTP's packets delay the DHCP
 * and HTTP answers in turn. In its own process each side is scheduled apart. bench/bootstorm: with
 * it (and the 4,096-transfer cap) 766 of 2,000 nodes reached their initrd, 33 before; the median
 * TFTP transfer at 500 nodes stayed about where it was (34 s against 38 s; tftpd-hpa, forking per
 * transfer, 16 s).
 *
 * The child is the same program (`skyboot-agent tftp-serve`, hidden), started with the same
 * Node.js and script; it reports each transfer's end (the agent's boot timeline records it) and
 * its counters over the IPC channel, and exits when the agent goes. If it dies, the agent starts
 * it again after a pause (doubling up to 30 s) and logs why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { log } from '../../logger.js';
import { TFTP_SERVE_COMMAND } from './processCommand.js';
import { createTftpServer, type TftpServer, type TftpServerOptions, type TftpStats, type TftpTransferEnded } from './server.js';

/** What crosses to the child: the server's options without the callback. */
export type TftpProcessOptions = Omit<TftpServerOptions, 'onTransfer'>;

type FromChild =
  | { kind: 'ready'; address: { address: string; port: number } }
  | { kind: 'transfer'; transfer: TftpTransferEnded }
  | { kind: 'stats'; stats: TftpStats }
  | { kind: 'failed'; error: string };

const STATS_INTERVAL_MS = 500;
const EMPTY: TftpStats = { active: 0, started: 0, completed: 0, failed: 0, refused: 0, busy: 0, retransmits: 0, bytesSent: 0, strays: 0 };

/** The child's side: serve, report, and exit when the parent goes (the IPC channel closes). */
export async function serveTftpForParent(options: TftpProcessOptions): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  let server: TftpServer;
  try {
    server = await createTftpServer({ ...options, onTransfer: (transfer) => send({ kind: 'transfer', transfer }) });
  } catch (err) {
    send({ kind: 'failed', error: (err as Error).message });
    process.exit(1);
  }
  const timer = setInterval(() => send({ kind: 'stats', stats: server.stats() }), STATS_INTERVAL_MS);
  const stop = () => {
    clearInterval(timer);
    void server.close().then(() => process.exit(0));
  };
  process.on('message', (m: { kind?: string }) => {
    if (m?.kind === 'close') stop();
  });
  process.once('disconnect', stop);
  send({ kind: 'ready', address: server.address() });
}

export interface TftpProcessStart {
  /** Node.js arguments that re-enter this program: the script path (process.argv[1]). */
  entry: string[];
  options: TftpProcessOptions;
  onTransfer?: (t: TftpTransferEnded) => void;
}

/** Starts the child and resolves once it listens; its failure to start is this call's error. */
export async function startTftpProcess(start: TftpProcessStart): Promise<TftpServer> {
  // Counters of children that died are kept: stats() adds them to the running child's.
  let before: TftpStats = { ...EMPTY };
  let current: TftpStats = { ...EMPTY };
  let bound: { address: string; port: number } | null = null;
  let child: ChildProcess | null = null;
  let closing = false;
  let restartDelayMs = 500;

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = spawn(process.execPath, [...start.entry, TFTP_SERVE_COMMAND, JSON.stringify({ ...start.options, ...(bound ? { port: bound.port } : {}) })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child = c;
      let ready = false;
      c.on('message', (m: FromChild) => {
        if (m.kind === 'ready') {
          ready = true;
          bound = m.address;
          // Started again while the agent was stopping: stopped at once.
          if (closing) c.send({ kind: 'close' }, () => undefined);
          restartDelayMs = 500;
          resolve();
        } else if (m.kind === 'transfer') start.onTransfer?.(m.transfer);
        else if (m.kind === 'stats') current = m.stats;
        else if (m.kind === 'failed' && !ready) reject(new Error(`TFTP server: ${m.error}`));
      });
      c.once('exit', (code, signal) => {
        before = add(before, current);
        current = { ...EMPTY, active: 0 };
        if (!ready) {
          reject(new Error(`TFTP server process exited (${signal ?? code}) before it listened`));
          return;
        }
        if (closing) return;
        log.error({ code, signal, restartInMs: restartDelayMs }, 'TFTP server process died; starting it again');
        setTimeout(() => {
          if (closing) return;
          launch().catch((err: Error) => log.error({ err: err.message }, 'TFTP server process did not start again'));
        }, restartDelayMs);
        restartDelayMs = Math.min(30_000, restartDelayMs * 2);
      });
    });

  await launch();
  return {
    address: () => bound!,
    stats: () => ({ ...add(before, current), active: current.active }),
    close: async () => {
      closing = true;
      const c = child as ChildProcess | null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      // A child that is going anyway may have closed its channel: then the kill below stops it.
      c.send({ kind: 'close' }, () => undefined);
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

function add(a: TftpStats, b: TftpStats): TftpStats {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof TftpStats)[]) out[k] = a[k] + b[k];
  return out;
}
