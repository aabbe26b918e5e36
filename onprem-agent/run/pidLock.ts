/**
 * A lock that one live process holds: the file at `path`, holding the owner's pid, its start
 * time and what it runs, created with link(2) from a complete temp file (createFileExclusive),
 * so it either exists whole or not at all. Used for the data dir (run/dataDirLock.ts) and for
 * one node's power action (redfish/powerLock.ts).
 *
 * Why a pid file and not flock(2): Node has no flock without a native module, and a helper
 * process holding the lock would outlive a SIGKILLed agent. A pid file is checked instead: the
 * holder is alive when `kill(pid, 0)` succeeds and /proc/<pid>/stat still shows the start time it
 * recorded (so a recycled pid does not keep a dead agent's lock). A stale lock is taken over by
 * renaming it aside, re-reading what was renamed (another process may have taken it over in
 * between; then it is put back) and creating a fresh one. The file must be on a local file
 * system of this host: pids mean nothing across hosts.
 */
import { readFile, rename, rm, link } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { createFileExclusive } from '../sync/atomicFile.js';

export interface LockHolder {
  pid: number;
  /** /proc/<pid>/stat field 22 (clock ticks after boot), null where /proc is missing. */
  startTicks: string | null;
  command: string;
  since: string;
  /** The unix socket a running agent answers one-shot commands on (run/adminSocket.ts). */
  socket: string | null;
}

export interface PidLock {
  path: string;
  holder: LockHolder;
  release(): Promise<void>;
}

/** The lock at `path` is held by a live process (`holder`). */
export class PidLockHeldError extends Error {
  constructor(readonly path: string, readonly holder: LockHolder) {
    super(`${path} is held by pid ${holder.pid} (${holder.command}, since ${holder.since})`);
  }
}

async function startTicks(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

async function isAlive(h: LockHolder): Promise<boolean> {
  try {
    process.kill(h.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!h.startTicks) return true;
  const now = await startTicks(h.pid);
  return now === null || now === h.startTicks;
}

async function readHolder(path: string): Promise<LockHolder | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (!Number.isInteger(h.pid) || h.pid <= 0) throw new Error('no pid');
    return h;
  } catch (err) {
    // Written whole by link(2), so unreadable means someone else wrote it: treat it as stale.
    return { pid: 0, startTicks: null, command: `unreadable lock (${(err as Error).message})`, since: '', socket: null };
  }
}

/** The live holder of the lock at `path`, or null when none (no lock, or a dead process's). */
export async function liveHolder(path: string): Promise<LockHolder | null> {
  // A lock this user may not read (another user's) names nobody it could talk to.
  const h = await readHolder(path).catch(() => null);
  return h && h.pid > 0 && (await isAlive(h)) ? h : null;
}

/** Takes the lock at `path` or throws PidLockHeldError naming the live holder. */
export async function acquirePidLock(path: string, command: string, opts: { socket?: string | null } = {}): Promise<PidLock> {
  const holder: LockHolder = { pid: process.pid, startTicks: await startTicks(process.pid), command, since: new Date().toISOString(), socket: opts.socket ?? null };
  const text = JSON.stringify(holder);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createFileExclusive(path, text, 0o644)) {
      return {
        path,
        holder,
        async release() {
          const now = await readHolder(path);
          if (now?.pid === holder.pid && now.since === holder.since) await rm(path, { force: true });
        },
      };
    }
    const current = await readHolder(path);
    if (!current) continue; // released meanwhile
    if (current.pid > 0 && (await isAlive(current))) throw new PidLockHeldError(path, current);
    // Stale: move it aside, and make sure what moved is the stale lock judged above.
    const aside = `${path}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      await rename(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = await readHolder(aside);
    if (moved && (moved.pid !== current.pid || moved.since !== current.since)) {
      // A live owner took over between our read and the rename: give its lock back.
      await link(aside, path).catch(() => undefined);
    }
    await rm(aside, { force: true });
  }
  const h = await readHolder(path);
  throw h ? new PidLockHeldError(path, h) : new Error(`could not take ${path}`);
}
