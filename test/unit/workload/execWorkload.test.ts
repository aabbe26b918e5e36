import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { createWorkloadManager } from '../../../onprem-agent/orchestrator/workload/createWorkloadManager.js';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';

const HOOK = resolve('test/fixtures/workload/state-file-hook.mjs');
const node = (xname: string, over: Partial<SnapshotNode> = {}): SnapshotNode => ({
  xname, nid: 1, role: 'Compute', subRole: null, arch: 'X86', groups: ['rack1'], interfaces: [], boot: null, cloudInit: null, ...over,
});

interface HookState { busy: string[]; drained?: Record<string, string>; calls?: unknown[]; hang?: boolean; unknown?: string[] }

describe('workload manager exec (a real hook process keeping state in a file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'workload-exec-'));
  const stateFile = join(dir, 'state.json');
  const write = (s: HookState) => writeFileSync(stateFile, JSON.stringify(s));
  const read = (): HookState => JSON.parse(readFileSync(stateFile, 'utf8')) as HookState;
  const wm = (timeoutSeconds = 10) =>
    createWorkloadManager({ kind: 'exec', command: HOOK, args: ['--state', stateFile], timeoutMs: timeoutSeconds * 1000 }, { logger: pino({ level: 'silent' }) });

  it('asks, drains and resumes through the JSON protocol', async () => {
    write({ busy: ['x1000c0s0b0n1'] });
    const m = wm();
    expect(m.kind).toBe('exec');
    expect(await m.isIdle(node('x1000c0s0b0n0'))).toBe(true);
    expect(await m.isIdle(node('x1000c0s0b0n1'))).toBe(false);
    await m.drain(node('x1000c0s0b0n1'), 'skyboot session s-42');
    expect(read().drained).toEqual({ 'x1000c0s0b0n1': 'skyboot session s-42' });
    await m.resume(node('x1000c0s0b0n1'));
    expect(read().drained).toEqual({});
    expect(read().calls).toEqual([
      { op: 'is-idle', node: { xname: 'x1000c0s0b0n0', nid: 1, role: 'Compute', subRole: null, groups: ['rack1'] } },
      { op: 'is-idle', node: { xname: 'x1000c0s0b0n1', nid: 1, role: 'Compute', subRole: null, groups: ['rack1'] } },
      { op: 'drain', node: { xname: 'x1000c0s0b0n1', nid: 1, role: 'Compute', subRole: null, groups: ['rack1'] }, reason: 'skyboot session s-42' },
      { op: 'resume', node: { xname: 'x1000c0s0b0n1', nid: 1, role: 'Compute', subRole: null, groups: ['rack1'] } },
    ]);
  });

  it('counts a manual hold as busy without asking the hook', async () => {
    write({ busy: [] });
    expect(await wm().isIdle(node('x1000c0s0b0n0', { workloadHold: true }))).toBe(false);
    expect(read().calls ?? []).toEqual([]);
  });

  it('fails naming the exit status and the stderr', async () => {
    write({ busy: [], unknown: ['x9c0s0b0n0'] });
    await expect(wm().isIdle(node('x9c0s0b0n0'))).rejects.toThrow(/^workload exec is-idle x9c0s0b0n0: .*state-file-hook\.mjs: exit status 3: qmgr: unknown node x9c0s0b0n0$/);
  });

  it('kills a hook that does not answer within the timeout', async () => {
    write({ busy: [], hang: true });
    const started = Date.now();
    await expect(wm(0.5).drain(node('x1000c0s0b0n0'), 'r')).rejects.toThrow(/no answer within 500 ms \(killed\)/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('fails on a command that is not there', async () => {
    const m = createWorkloadManager({ kind: 'exec', command: join(dir, 'no-such-hook'), args: [], timeoutMs: 1000 }, { logger: pino({ level: 'silent' }) });
    await expect(m.isIdle(node('x1000c0s0b0n0'))).rejects.toThrow(/no-such-hook: not found/);
  });
});
