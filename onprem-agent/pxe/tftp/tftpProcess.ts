/**
 * The TFTP server in a process of its own, as `skyboot-agent run` starts it (run/serverProcess.ts
 * supervises it). TFTP is lock-step: each 1,468-byte block waits for its ACK, so a transfer is as
 * fast as the server's turnaround, and in the agent's own event loop that turnaround waits behind
 * the HTTP artifacts of a boot storm. bench/bootstorm: with it (and the 4,096-transfer cap) 766
 * of 2,000 nodes reached their initrd, 33 before; the median TFTP transfer at 500 nodes stayed
 * about where it was (34 s against 38 s; tftpd-hpa, forking per transfer, 16 s).
 *
 * The child reports each transfer's end (the agent's boot timeline records it) and its counters.
 */
import { addCounters, serveForParent, startServerProcess } from '../../run/serverProcess.js';
import { TFTP_SERVE_COMMAND } from './processCommand.js';
import { createTftpServer, type TftpServer, type TftpServerOptions, type TftpStats, type TftpTransferEnded } from './server.js';

/** What crosses to the child: the server's options without the callback. */
export type TftpProcessOptions = Omit<TftpServerOptions, 'onTransfer'>;

type Address = { address: string; port: number };
type TransferMessage = { kind: 'transfer'; transfer: TftpTransferEnded };

const EMPTY: TftpStats = { active: 0, started: 0, completed: 0, failed: 0, refused: 0, busy: 0, retransmits: 0, bytesSent: 0, strays: 0 };

/** The child's side (the hidden `tftp-serve` command). */
export function serveTftpForParent(options: TftpProcessOptions): Promise<void> {
  return serveForParent<Address, TftpStats, TransferMessage>(async (send) => {
    const server = await createTftpServer({ ...options, onTransfer: (transfer) => send({ kind: 'transfer', transfer }) });
    return { ready: server.address(), stats: () => server.stats(), close: () => server.close() };
  });
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
  let bound: Address | null = null;
  const child = await startServerProcess<Address, TftpStats, TransferMessage>({
    label: 'TFTP server',
    entry: start.entry,
    command: TFTP_SERVE_COMMAND,
    options: () => ({ ...start.options, ...(bound ? { port: bound.port } : {}) }),
    onReady: (address) => { bound = address; },
    onStats: (stats) => { current = stats; },
    onMessage: (m) => start.onTransfer?.(m.transfer),
    onExit: () => {
      before = addCounters(before, current);
      current = { ...EMPTY };
    },
  });
  return {
    address: () => bound!,
    stats: () => ({ ...addCounters(before, current), active: current.active }),
    close: () => child.close(),
  };
}
