/**
 * One process at a time owns a data dir: `skyboot-agent run`, or a one-shot command that changes
 * the data dir while no agent runs. The lock is the file `<dataDir>/agent.lock`, a pid lock
 * (run/pidLock.ts: why a pid file, how a stale one is taken over).
 */
import { join } from 'node:path';
import { acquirePidLock, liveHolder, PidLockHeldError, type LockHolder } from './pidLock.js';

export type { LockHolder } from './pidLock.js';

export const LOCK_FILE = 'agent.lock';

export interface DataDirLock {
  dataDir: string;
  path: string;
  holder: LockHolder;
  release(): Promise<void>;
}

export class DataDirLockedError extends Error {
  constructor(readonly dataDir: string, readonly holder: LockHolder) {
    super(`data dir ${dataDir} is in use by pid ${holder.pid} (${holder.command}, since ${holder.since}); ${join(dataDir, LOCK_FILE)} names it. Stop that process first, or talk to it`);
  }
}

/** The live holder of the data dir's lock, or null when none (no lock, or a dead process's). */
export async function lockHolder(dataDir: string): Promise<LockHolder | null> {
  return liveHolder(join(dataDir, LOCK_FILE));
}

/** Takes the data dir's lock or throws DataDirLockedError naming the live holder. */
export async function acquireDataDirLock(dataDir: string, command: string, opts: { socket?: string | null } = {}): Promise<DataDirLock> {
  try {
    const lock = await acquirePidLock(join(dataDir, LOCK_FILE), command, opts);
    return { dataDir, ...lock, release: () => lock.release() };
  } catch (err) {
    if (err instanceof PidLockHeldError) throw new DataDirLockedError(dataDir, err.holder);
    throw err;
  }
}

/** Runs `fn` holding the data dir lock (a one-shot command that changes what an agent owns). */
export async function withDataDirLock<T>(dataDir: string, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireDataDirLock(dataDir, command);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
