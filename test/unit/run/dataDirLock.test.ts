/** The data dir lock against real processes: a live holder refuses, a dead or recycled pid is taken over. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDataDirLock, DataDirLockedError, lockHolder, LOCK_FILE } from '../../../onprem-agent/run/dataDirLock.js';

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  return r.pid!;
}

describe('data dir lock', () => {
  it('refuses a second holder while the first lives, naming its pid, and is free after release', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    const a = await acquireDataDirLock(dir, 'test run', { socket: join(dir, 'agent.sock') });
    const err = await acquireDataDirLock(dir, 'test discover').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirLockedError);
    expect((err as Error).message).toContain(`in use by pid ${process.pid} (test run`);
    expect(await lockHolder(dir)).toMatchObject({ pid: process.pid, command: 'test run', socket: join(dir, 'agent.sock') });
    await a.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(await lockHolder(dir)).toBeNull();
    await (await acquireDataDirLock(dir, 'again')).release();
  });

  it("takes over a dead process's lock, and a lock whose pid now belongs to another process", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), startTicks: null, command: 'crashed', since: '2026-01-01T00:00:00Z', socket: null }));
    expect(await lockHolder(dir)).toBeNull();
    const a = await acquireDataDirLock(dir, 'after a crash');
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'after a crash' });
    await a.release();
    // Our own pid with another start time: the pid was recycled, the holder is gone.
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, startTicks: '1', command: 'old', since: '2026-01-01T00:00:00Z', socket: null }));
    const b = await acquireDataDirLock(dir, 'recycled pid');
    await b.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('of many concurrent takeovers of a stale lock exactly one wins', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lock-'));
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(), startTicks: null, command: 'crashed', since: 'x', socket: null }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => acquireDataDirLock(dir, `contender ${i}`)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof DataDirLockedError)).toBe(true);
  });
});
