import { jest } from '@jest/globals';
import { pino } from 'pino';
import { createWorkloadManager } from '../../../onprem-agent/orchestrator/workload/createWorkloadManager.js';
import { parseWorkloadConfig } from '../../../onprem-agent/orchestrator/workload/workloadConfig.js';
import type { WorkloadManager } from '../../../onprem-agent/orchestrator/workload/workloadManager.js';
import type { SnapshotNode } from '../../../schema/siteSnapshot.js';
import { startSlurmCluster, type SlurmCluster } from '../../support/slurm.js';



jest.setTimeout(120_000);

const node = (nid: number): SnapshotNode => ({
  xname: `x1000c0s0b0n${nid}`, nid, role: 'Compute', subRole: null, arch: 'X86', groups: [], interfaces: [], boot: null, cloudInit: null,
});

describe("workload manager slurm against Debian's slurmctld and one slurmd per node", () => {
  let slurm: SlurmCluster;
  let wm: WorkloadManager;
  const sbatch = (args: string[]) => /Submitted batch job (\d+)/.exec(slurm.run('sbatch', ['-o', '/dev/null', ...args]))![1]!;

  beforeAll(async () => {
    slurm = await startSlurmCluster({ nodes: ['nid000001', 'nid000002', 'nid000003'] });
    wm = createWorkloadManager(parseWorkloadConfig({ kind: 'slurm', nodeNameFormat: 'nid%06d', slurmConf: slurm.conf }), { logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await slurm?.stop();
  });

  it('reports a node with a job busy, drains it so nothing new lands, waits the job out untouched, and resumes it', async () => {
    const running = sbatch(['-w', 'nid000001', '--wrap', 'sleep 8']);
    await slurm.waitFor('the job to run', () => slurm.job(running).JobState === 'RUNNING');
    expect(await wm.isIdle(node(1))).toBe(false);
    expect(await wm.isIdle(node(2))).toBe(true);

    await wm.drain(node(1), 'skyboot session s-1');
    expect(slurm.nodeState('nid000001')).toBe('ALLOCATED+DRAIN');
    expect(slurm.nodeReason('nid000001')).toMatch(/^skyboot session s-1 /);
    const queued = sbatch(['-w', 'nid000001', '--wrap', 'sleep 1']);
    await new Promise((r) => setTimeout(r, 3000));
    expect(slurm.job(queued).JobState).toBe('PENDING');
    expect(await wm.isIdle(node(1))).toBe(false);

    await slurm.waitFor('the drained node to go idle', () => slurm.nodeState('nid000001') === 'IDLE+DRAIN', 60_000);
    expect(await wm.isIdle(node(1))).toBe(true);
    const done = slurm.job(running);
    expect([done.JobState, done.Restarts, done.ExitCode]).toEqual(['COMPLETED', '0', '0:0']);
    expect(slurm.job(queued).JobState).toBe('PENDING');

    await wm.resume(node(1));
    await slurm.waitFor('the queued job to land once resumed', () => slurm.job(queued).JobState === 'COMPLETED', 30_000);
    expect(slurm.job(queued).NodeList).toBe('nid000001');
  });

  it("leaves a node someone else drained alone: their reason stays and resume does not undrain it", async () => {
    slurm.run('scontrol', ['update', 'nodename=nid000003', 'state=DRAIN', 'reason=bad DIMM']);
    await wm.drain(node(3), 'skyboot session s-2');
    expect(slurm.nodeReason('nid000003')).toMatch(/^bad DIMM /);
    await wm.resume(node(3));
    expect(slurm.nodeState('nid000003')).toBe('IDLE+DRAIN');
    expect(slurm.nodeReason('nid000003')).toMatch(/^bad DIMM /);
  });

  it('fails naming the node Slurm does not know', async () => {
    await expect(wm.isIdle(node(9))).rejects.toThrow(/^workload slurm is-idle x1000c0s0b0n9: scontrol show node -o nid000009: exit status 1: Node nid000009 not found/);
    await expect(wm.drain({ ...node(4), nid: null }, 'r')).rejects.toThrow(/no Slurm node name: the node has no NID/);
  });
});
