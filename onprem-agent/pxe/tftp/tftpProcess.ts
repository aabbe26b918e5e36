/**
 * The TFTP server in processes of its own, as `skyboot-agent run` starts it (run/serverProcess.ts
 * supervises them). TFTP is lock-step: each 1,468-byte block waits for its ACK, so a transfer is
 * as fast as the server's turnaround, and in the agent's own event loop that turnaround waits
 * behind the HTTP artifacts of a boot storm.
 *
 * The agent starts one TFTP process; with `workers` above 1 (default: one per CPU) that process
 * starts the workers with node:cluster and serves nothing itself. The workers share the listening
 * socket, so the kernel hands each request to one of them, and each runs its transfers on sockets
 * of its own; the cap on transfers is split between them. One process per CPU, as tftpd-hpa's
 * process per transfer does, lets the transfers use every core. Workers that die are started
 * again; each report of a transfer's end (the agent's boot timeline records it) and the summed
 * counters reach the agent.
 */
import type { ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { addCounters, serveForParent, startServerProcess } from '../../run/serverProcess.js';
import { TFTP_SERVE_COMMAND } from './processCommand.js';
import { createTftpServer, type TftpServer, type TftpServerOptions, type TftpStats, type TftpTransferEnded } from './server.js';

/** What crosses to the child: the server's options without the callback, and how many workers. */
export type TftpProcessOptions = Omit<TftpServerOptions, 'onTransfer'> & {
  /** Processes serving transfers (default: one per CPU); 1 serves in the TFTP process itself. */
  workers?: number;
};

type Address = { address: string; port: number };
type TransferMessage = { kind: 'transfer'; transfer: TftpTransferEnded };

const EMPTY: TftpStats = { active: 0, started: 0, completed: 0, failed: 0, refused: 0, busy: 0, retransmits: 0, bytesSent: 0, strays: 0 };
const DEFAULT_MAX_TRANSFERS = 4096;

/** The child's side (the hidden `tftp-serve` command): a server, or the primary of its workers. */
export function serveTftpForParent(options: TftpProcessOptions): Promise<void> {
  return serveForParent<Address, TftpStats, TransferMessage>(async (send) => {
    const onTransfer = (transfer: TftpTransferEnded) => send({ kind: 'transfer', transfer });
    const workers = cluster.isWorker ? 1 : Math.max(1, options.workers ?? availableParallelism());
    if (workers > 1) return startWorkers(options, workers, onTransfer);
    const server = await createTftpServer({ ...options, onTransfer });
    return { ready: server.address(), stats: () => server.stats(), close: () => server.close() };
  });
}

/**
 * The workers, started one after the other. node:cluster's primary (this process) binds the
 * listening socket for the first and hands the same one to each worker that asks for the same
 * address and port, so every worker, and every worker started again, asks for the port as
 * configured (0 included), never the one bound.
 */
async function startWorkers(options: TftpProcessOptions, count: number, onTransfer: (t: TftpTransferEnded) => void) {
  const share = { ...options, workers: 1, maxTransfers: Math.ceil((options.maxTransfers ?? DEFAULT_MAX_TRANSFERS) / count) };
  const fork = (args: string[]) => {
    cluster.setupPrimary({ exec: process.argv[1]!, args });
    return cluster.fork().process;
  };
  const servers: TftpServer[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startTftpProcess({ label: 'TFTP worker', entry: [], fork, options: share, onTransfer }));
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    throw err;
  }
  return {
    ready: servers[0]!.address(),
    stats: () => servers.map((s) => s.stats()).reduce((a, b) => addCounters(a, b), { ...EMPTY }),
    close: async () => { await Promise.all(servers.map((s) => s.close())); },
  };
}

export interface TftpProcessStart {
  /** Node.js arguments that re-enter this program: the script path (process.argv[1]). */
  entry: string[];
  options: TftpProcessOptions;
  onTransfer?: (t: TftpTransferEnded) => void;
  /** For logs: "TFTP server" unless given ("TFTP worker"). */
  label?: string;
  /** How the process is started (the workers: node:cluster); default run/serverProcess.ts's. */
  fork?: (args: string[]) => ChildProcess;
}

/** Starts the child and resolves once it listens; its failure to start is this call's error. */
export async function startTftpProcess(start: TftpProcessStart): Promise<TftpServer> {
  // Counters of children that died are kept: stats() adds them to the running child's.
  let before: TftpStats = { ...EMPTY };
  let current: TftpStats = { ...EMPTY };
  let bound: Address | null = null;
  const child = await startServerProcess<Address, TftpStats, TransferMessage>({
    label: start.label ?? 'TFTP server',
    entry: start.entry,
    command: TFTP_SERVE_COMMAND,
    // Started again, a process binds the port it had; a worker asks for the shared one (above).
    options: () => ({ ...start.options, ...(bound && !start.fork ? { port: bound.port } : {}) }),
    onReady: (address) => { bound = address; },
    onStats: (stats) => { current = stats; },
    onMessage: (m) => start.onTransfer?.(m.transfer),
    onExit: () => {
      before = addCounters(before, current);
      current = { ...EMPTY };
    },
    ...(start.fork ? { fork: start.fork } : {}),
  });
  return {
    address: () => bound!,
    stats: () => ({ ...addCounters(before, current), active: current.active }),
    close: () => child.close(),
  };
}
