/**
 * One power action per node at a time, across processes: the running agent's power runner (and
 * its rollout operator) and a one-shot `skyboot-agent power` on the same data dir would
 * otherwise both drive one BMC, and a second reset or power-on in the middle of the first undoes
 * it. Each action on a node holds `<dataDir>/redfish/power-locks/<xname>.lock` (a pid lock,
 * run/pidLock.ts) for its whole run, confirmation included. A node already being acted on is
 * refused at once, naming who acts on it: the caller decides whether to try again.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { acquirePidLock, PidLockHeldError, type LockHolder, type PidLock } from '../run/pidLock.js';

export class PowerActionInProgressError extends Error {
  constructor(readonly xname: string, readonly holder: LockHolder) {
    super(`${xname}: a power action by pid ${holder.pid} (${holder.command}) is in progress since ${holder.since}; nothing was sent, try again when it ends`);
    this.name = 'PowerActionInProgressError';
  }
}

export const powerLockDir = (dataDir: string): string => join(dataDir, 'redfish', 'power-locks');

/** Takes the node's power lock (release it when the action is done), or throws PowerActionInProgressError. */
export async function acquireNodePowerLock(dataDir: string, xname: string, actor: string): Promise<PidLock> {
  const dir = powerLockDir(dataDir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  try {
    return await acquirePidLock(join(dir, `${xname}.lock`), actor);
  } catch (err) {
    if (err instanceof PidLockHeldError) throw new PowerActionInProgressError(xname, err.holder);
    throw err;
  }
}
