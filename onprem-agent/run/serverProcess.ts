/**
 * A boot server (TFTP, DHCP) in a process of its own, as `skyboot-agent run` starts it: both
 * halves of the supervision, written once.
 *
 * Why a process: the agent's event loop also sends gigabytes of kernels and initrds over HTTP in
 * a boot storm, and a UDP server in that loop answers only between those writes (bench/bootstorm:
 * iPXE's DHCP answered with a median of 23 s at 1,000 nodes, where dnsmasq took 1 s). In a
 * process of its own each server is scheduled by the kernel apart from the others.
 *
 * The child is the same program (a hidden `skyboot-agent` command) started with the same
 * Node.js and script, its options as one JSON argument. It says `ready` once it listens (or
 * `failed` with the reason), sends its counters every STATS_INTERVAL_MS and with whatever else its
 * server reports, and exits when the agent goes (the IPC channel closes). If it dies, the agent
 * starts it again after a pause (doubling up to 30 s) and logs why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { log } from '../logger.js';

const STATS_INTERVAL_MS = 500;

/** What every child says, whatever its server: its own messages come as `M`. */
export type ServerProcessMessage<Ready, Stats, M> =
  | { kind: 'ready'; ready: Ready }
  | { kind: 'stats'; stats: Stats }
  | { kind: 'failed'; error: string }
  | { kind: 'waiting' }
  | M;

/** A server the child runs: what it tells the parent once it listens, its counters, its end. */
export interface ChildServer<Ready, Stats> {
  ready: Ready;
  stats(): Stats;
  close(): Promise<void>;
}

/**
 * The child's side: opens the server (`send` reaches the parent), reports, and stops when the
 * parent asks or goes. `open` may wait for a first message from the parent (DHCP waits for the
 * inventory), read through `onParentMessage`.
 */
export async function serveForParent<Ready, Stats, M>(
  open: (send: (m: ServerProcessMessage<Ready, Stats, M>) => void) => Promise<ChildServer<Ready, Stats>>,
): Promise<void> {
  let server: ChildServer<Ready, Stats> | undefined;
  // The server's own messages (a reply sent, a transfer ended) carry the counters as they are
  // after it, so the agent's status never lags what it was just told about.
  const send = (m: ServerProcessMessage<Ready, Stats, M>) => {
    const kind = (m as { kind: string }).kind;
    const own = server && kind !== 'ready' && kind !== 'stats' && kind !== 'failed' && kind !== 'waiting';
    process.send?.(own ? { ...m, stats: server!.stats() } : m);
  };
  // Until the server runs, a parent that goes ends the child too.
  const early = () => process.exit(0);
  process.once('disconnect', early);
  try {
    server = await open(send);
  } catch (err) {
    send({ kind: 'failed', error: (err as Error).message });
    process.exit(1);
  }
  process.off('disconnect', early);
  const running = server;
  const timer = setInterval(() => send({ kind: 'stats', stats: running.stats() }), STATS_INTERVAL_MS);
  const stop = () => {
    clearInterval(timer);
    void running.close().then(() => process.exit(0));
  };
  onParentMessage<{ kind?: string }>((m) => {
    if (m?.kind === 'close') stop();
  });
  process.once('disconnect', stop);
  send({ kind: 'ready', ready: running.ready });
}

/** Messages from the parent, in the child. */
export function onParentMessage<T>(handler: (m: T) => void): void {
  process.on('message', (m: T) => handler(m));
}

/**
 * In the child: asks for the parent's greeting and waits for it. Asked, not pushed: a message
 * that arrives before the child listens (it is still loading its modules) would be lost.
 */
export function awaitGreeting<T>(): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { kind?: string; greeting?: T }) => {
      if (m?.kind !== 'greeting') return;
      process.off('message', onMessage);
      resolve(m.greeting as T);
    };
    process.on('message', onMessage);
    process.send?.({ kind: 'waiting' });
  });
}

export interface ServerProcessSpec<Ready, Stats, M> {
  /** For logs and errors: "TFTP server". */
  label: string;
  /** Node.js arguments that re-enter this program: the script path (process.argv[1]). */
  entry: string[];
  /** The hidden command that is the child. */
  command: string;
  /** The child's options, read at each start (a restarted child keeps the ports it had). */
  options: () => unknown;
  /** Sent to each child when it asks (awaitGreeting): what it needs before it serves. */
  greeting?: () => unknown;
  onReady(ready: Ready): void;
  onStats(stats: Stats): void;
  /** The child's own messages. */
  onMessage?(m: M): void;
  /** The child ended (died or stopped): fold its counters into the ones kept. */
  onExit(): void;
  /**
   * How the child is started from its arguments (the command and its options); default: this
   * Node.js with `entry`, an IPC channel, stdout and stderr shared. The TFTP workers use
   * node:cluster instead, so they share the listening socket.
   */
  fork?: (args: string[]) => ChildProcess;
}

function spawnChild(entry: string[]): (args: string[]) => ChildProcess {
  return (args) => spawn(process.execPath, [...entry, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

export interface ServerProcess {
  /** To the running child; dropped when none runs (the next one is greeted afresh). */
  send(m: unknown): void;
  close(): Promise<void>;
}

/** Starts the child and resolves once it listens; its failure to start is this call's error. */
export async function startServerProcess<Ready, Stats, M extends { kind: string }>(spec: ServerProcessSpec<Ready, Stats, M>): Promise<ServerProcess> {
  let child: ChildProcess | null = null;
  let closing = false;
  let restartDelayMs = 500;

  const launch = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const c = (spec.fork ?? spawnChild(spec.entry))([spec.command, JSON.stringify(spec.options())]);
      child = c;
      let ready = false;
      // Not started at all (the program missing, no memory): this start's error, or logged.
      c.once('error', (err) => {
        if (!ready) reject(new Error(`${spec.label} process could not start: ${err.message}`));
        else log.error({ err: err.message }, `${spec.label} process error`);
      });
      c.on('message', (m: ServerProcessMessage<Ready, Stats, M>) => {
        if (m.kind === 'waiting') c.send({ kind: 'greeting', greeting: spec.greeting?.() ?? null }, () => undefined);
        else if (m.kind === 'ready') {
          ready = true;
          spec.onReady((m as { ready: Ready }).ready);
          // Started again while the agent was stopping: stopped at once.
          if (closing) c.send({ kind: 'close' }, () => undefined);
          restartDelayMs = 500;
          resolve();
        } else if (m.kind === 'stats') spec.onStats((m as { stats: Stats }).stats);
        else if (m.kind === 'failed') {
          if (!ready) reject(new Error(`${spec.label}: ${(m as { error: string }).error}`));
        } else {
          const carried = (m as { stats?: Stats }).stats;
          if (carried) spec.onStats(carried);
          spec.onMessage?.(m as M);
        }
      });
      c.once('exit', (code, signal) => {
        spec.onExit();
        if (!ready) {
          reject(new Error(`${spec.label} process exited (${signal ?? code}) before it listened`));
          return;
        }
        if (closing) return;
        log.error({ code, signal, restartInMs: restartDelayMs }, `${spec.label} process died; starting it again`);
        setTimeout(() => {
          if (closing) return;
          launch().catch((err: Error) => log.error({ err: err.message }, `${spec.label} process did not start again`));
        }, restartDelayMs);
        restartDelayMs = Math.min(30_000, restartDelayMs * 2);
      });
    });

  await launch();
  return {
    send: (m) => {
      const c = child as ChildProcess | null;
      if (c?.connected) c.send(m as object, () => undefined);
    },
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

/** Counters of children that died plus the running one's: numeric fields added, others the latest. */
export function addCounters<S extends object>(a: S, b: S): S {
  const out = { ...b } as Record<string, unknown>;
  for (const [k, v] of Object.entries(a)) if (typeof v === 'number' && typeof out[k] === 'number') out[k] = v + (out[k] as number);
  return out as S;
}
