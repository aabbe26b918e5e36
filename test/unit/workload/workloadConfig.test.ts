import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadAgentConfig } from '../../../onprem-agent/config.js';
import { createWorkloadManager } from '../../../onprem-agent/orchestrator/workload/createWorkloadManager.js';
import { parseWorkloadConfig } from '../../../onprem-agent/orchestrator/workload/workloadConfig.js';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';

const node = (over: Partial<SnapshotNode> = {}): SnapshotNode => ({
  xname: 'x1000c0s0b0n0', nid: 7, role: 'Compute', subRole: null, arch: 'X86', groups: [], interfaces: [], boot: null, cloudInit: null, ...over,
});

describe('workload configuration', () => {
  it('defaults to none and takes a bare kind', () => {
    expect(parseWorkloadConfig(undefined)).toEqual({ kind: 'none' });
    expect(parseWorkloadConfig('slurm')).toEqual({ kind: 'slurm', nodeNameFormat: 'nid%06d', nodeMapFile: null, slurmConf: null, binDir: null, timeoutMs: 30_000 });
  });

  it('reads the file object, the env JSON and the flag kind, flag over env over file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'workload-config-'));
    const file = join(dir, 'agent.json');
    writeFileSync(file, JSON.stringify({ workload: { kind: 'exec', command: '/usr/local/sbin/pbs-hook', args: ['--site', 'a'], timeoutSeconds: 5 } }));
    expect(loadAgentConfig({ config: file }, {}).workload).toEqual({ kind: 'exec', command: '/usr/local/sbin/pbs-hook', args: ['--site', 'a'], timeoutMs: 5000 });
    const env = { SKYBOOT_AGENT_WORKLOAD: '{"kind":"slurm","nodeNameFormat":"cn%d","slurmConf":"/etc/slurm/slurm.conf"}' };
    expect(loadAgentConfig({ config: file }, env).workload).toMatchObject({ kind: 'slurm', nodeNameFormat: 'cn%d', slurmConf: '/etc/slurm/slurm.conf' });
    expect(loadAgentConfig({ config: file, workload: 'none' }, env).workload).toEqual({ kind: 'none' });
  });

  it.each([
    [{ kind: 'lsf' }, /^workload\.kind: "lsf" is not one of none, exec, slurm/],
    [{ kind: 'exec' }, /^workload\.command: kind exec needs/],
    [{ kind: 'exec', command: '/x', timeoutSeconds: 0 }, /^workload\.timeoutSeconds: 0 is not a positive/],
    [{ kind: 'exec', command: '/x', args: [1] }, /^workload\.args: must be a list of strings/],
    [{ kind: 'slurm', nodeNameFormat: 'nid' }, /^workload\.nodeNameFormat: "nid" needs exactly one %d/],
    [{ kind: 'slurm', command: '/x' }, /^workload\.command: unknown option for kind slurm; known: kind, nodeNameFormat/],
    [{ kind: 'none', slurmConf: '/x' }, /^workload\.slurmConf: unknown option for kind none/],
    [42, /^workload: 42 is neither a kind/],
    ['{"kind":', /^workload: not JSON/],
  ])('refuses %j naming the key', (raw, message) => {
    expect(() => parseWorkloadConfig(raw)).toThrow(message);
  });
});

describe('workload manager none', () => {
  const wm = createWorkloadManager({ kind: 'none' }, { logger: pino({ level: 'silent' }) });

  it('is idle unless held by hand, and drain/resume change nothing', async () => {
    expect(wm.kind).toBe('none');
    expect(await wm.isIdle(node())).toBe(true);
    expect(await wm.isIdle(node({ workloadHold: false }))).toBe(true);
    const held = node({ workloadHold: true });
    expect(await wm.isIdle(held)).toBe(false);
    await wm.drain(held, 'skyboot session s1');
    await wm.resume(held);
    expect(await wm.isIdle(held)).toBe(false);
  });
});
