/**
 * respectWorkload rollouts against a real, busy Slurm cluster: Debian's slurmctld and one slurmd per
 * node (test/support/slurm.ts), the agent configured with `workload: slurm` as a site configures it,
 * and the simulated site of rollingSite.ts (a simulated BMC and OS per node, rebooted through the
 * agent's Redfish power path). The Slurm node and the simulated OS of one node are two simulators
 * side by side: the power cycle reboots the simulated OS, not the slurmd, so what proves that no
 * job was in the way is the timing read back from both (Slurm's job times against the simulator's
 * power-off and heartbeat), plus Slurm's own record that every job completed, never requeued.
 *
 * Every node has a queue of jobs behind its running one, so it never goes idle by itself: only
 * the operator's drain ahead (within the window) lets it run out of work.
 */
import { jest } from '@jest/globals';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startSlurmCluster, type SlurmCluster } from '../../support/slurm.js';
import { outOfService, startRollingSite, until, type RollingSite } from './rollingSite.js';

jest.setTimeout(240_000);

const COUNT = 4;
const WINDOW = 2;
const JOB_SECONDS = 6;
const JOBS_PER_NODE = 3;
/** rollingSite.ts numbers the nodes' NIDs from 100; the agent names them nid%06d. */
const slurmName = (i: number) => `nid${String(100 + i).padStart(6, '0')}`;
const NAMES = Array.from({ length: COUNT }, (_, i) => slurmName(i));

/** Slurm prints times in the host's local time, to the second. */
const slurmTime = (t: string | undefined): number | null => (t && /^\d{4}-\d\d-\d\dT/.test(t) ? new Date(t).getTime() : null);

describe('respectWorkload with Slurm: busy nodes drained ahead within the window, rebooted once their jobs end, resumed', () => {
  let slurm: SlurmCluster;
  let site: RollingSite;
  const states = (): Map<string, { state: string; reason: string | null }> => {
    const out = new Map<string, { state: string; reason: string | null }>();
    for (const line of slurm.run('scontrol', ['show', 'node', '-o']).split('\n').filter(Boolean)) {
      const name = /NodeName=(\S+)/.exec(line)?.[1];
      if (!name) continue;
      const reason = /(?:^| )Reason=(.*)$/.exec(line.trim())?.[1] ?? null;
      out.set(name, { state: /(?:^| )State=(\S+)/.exec(line)?.[1] ?? '', reason });
    }
    return out;
  };
  const submit = (node: string, seconds: number): string => /Submitted batch job (\d+)/.exec(slurm.run('sbatch', ['-o', '/dev/null', '-w', node, '--wrap', `sleep ${seconds}`]))![1]!;
  const sessionOf = (id: string) => site.agent.status().then((s) => s.rollout?.sessions[id]);

  beforeAll(async () => {
    slurm = await startSlurmCluster({ nodes: NAMES });
    await slurm.waitFor('every slurmd to register', () => NAMES.every((n) => slurm.nodeState(n) === 'IDLE'), 60_000);
    process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL = '0.5';
    site = await startRollingSite({ site: 'slurmroll', count: COUNT, bootDelayMs: 300, workload: { kind: 'slurm', nodeNameFormat: 'nid%06d', slurmConf: slurm.conf } });
    await site.putTemplate('to-b', site.imageB, 'console=ttyS0');
    await site.putTemplate('to-a', site.imageA, 'console=ttyS0');
  }, 180_000);
  afterAll(async () => {
    delete process.env.SKYBOOT_AGENT_ROLLOUT_INTERVAL;
    await site?.close();
    await slurm?.stop();
  });

  it('never has more than the window drained, reboots each node only between jobs, kills none, and resumes every node', async () => {
    const jobs = new Map<string, string[]>(NAMES.map((n) => [n, Array.from({ length: JOBS_PER_NODE }, () => submit(n, JOB_SECONDS))]));
    await slurm.waitFor('a job running on every node', () => [...states().values()].every((s) => s.state.startsWith('ALLOCATED')), 30_000);
    const t0 = Date.now();
    const s = await site.createSession({ template: 'to-b', operation: 'REBOOT', maxConcurrent: WINDOW, respectWorkload: true, bootTimeoutSeconds: 30 });

    // Sampled while it runs: nodes out of service by Slurm's record (a drain of ours), and nodes drained while still running a job.
    let maxOut = 0;
    const drainedBusy = new Set<string>();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = states();
        const ours = [...now].filter(([, v]) => v.reason?.startsWith(`skyboot session ${s.id}`));
        maxOut = Math.max(maxOut, ours.length);
        for (const [name, v] of ours) if (v.state.startsWith('ALLOCATED') && v.reason!.includes('waiting for its jobs to end')) drainedBusy.add(name);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const done = await site.waitForSession(s.id, 'COMPLETE', (x) => x.status !== 'RUNNING', 180_000).finally(async () => {
      sampling = false;
      await sampler;
    });
    expect(done.status).toBe('COMPLETE');
    expect(done.counts).toMatchObject({ total: COUNT, succeeded: COUNT, failed: 0, rolledBack: 0 });

    // The window held by Slurm's own record, and was used.
    expect(maxOut).toBeLessThanOrEqual(WINDOW);
    expect(maxOut).toBeGreaterThan(0);
    // Every node was busy when the session met it and was drained ahead; the agent counted what it did.
    expect([...drainedBusy].sort()).toEqual(NAMES);
    expect(await sessionOf(s.id)).toMatchObject({ claimed: COUNT, drainedAhead: COUNT, resumedAhead: 0, powerCycled: COUNT, validated: COUNT, failed: 0 });

    // Every job ran to its end, on its node, never requeued, and none ran while its node was out of service.
    await slurm.waitFor('every queued job to run once its node was resumed', () => [...jobs.values()].flat().every((j) => slurm.job(j).JobState === 'COMPLETED'), 120_000);
    for (const [i, name] of NAMES.entries()) {
      const n = site.nodes[i]!;
      const { interval } = outOfService(n.xname, site.record(n), t0, (await site.bootScriptAsNode(n)).token!);
      expect(interval).not.toBeNull();
      for (const j of jobs.get(name)!) {
        const job = slurm.job(j);
        expect([job.JobState, job.Restarts, job.ExitCode, job.NodeList]).toEqual(['COMPLETED', '0', '0:0', name]);
        const start = slurmTime(job.StartTime)!;
        const end = slurmTime(job.EndTime)!;
        // Slurm's clock is to the second: a job either ended by the power-off or started after the heartbeat.
        const before = end <= interval!.from + 1000;
        const after = start >= interval!.to - 1000;
        if (!before && !after) throw new Error(`job ${j} on ${name} ran ${job.StartTime}..${job.EndTime}, overlapping the reboot ${new Date(interval!.from).toISOString()}..${new Date(interval!.to).toISOString()}`);
      }
      // Resumed: no drain left, of ours or anyone's.
      expect(states().get(name)!.state).not.toMatch(/DRAIN/);
    }
    const st = await site.agent.status();
    expect(st.rollout?.inFlight).toBe(0);
    // No drain ahead is left in the agent's journal: each was taken over by its node's claim.
    expect(readdirSync(join(st.agent.dataDir, 'orchestrator', 'drains-ahead')).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('a cancelled session resumes the busy nodes it drained ahead, without power-cycling them', async () => {
    const long = NAMES.map((n) => submit(n, 600));
    await slurm.waitFor('a long job on every node', () => [...states().values()].every((s) => s.state.startsWith('ALLOCATED')), 30_000);
    const resetsBefore = site.nodes.map((n) => site.resets(n).length);
    const s = await site.createSession({ template: 'to-a', operation: 'REBOOT', maxConcurrent: WINDOW, respectWorkload: true, bootTimeoutSeconds: 30 });
    const ours = () => [...states()].filter(([, v]) => v.reason?.startsWith(`skyboot session ${s.id}`)).map(([k]) => k);
    await until('the window full of nodes drained ahead', () => ours().length === WINDOW, 30_000);
    // A few more rounds change nothing: the window is full of busy nodes, none is taken or drained beyond it.
    await new Promise((r) => setTimeout(r, 3000));
    const drained = ours();
    expect(drained).toHaveLength(WINDOW);
    for (const name of drained) expect(states().get(name)!.state).toBe('ALLOCATED+DRAIN');
    expect((await site.session(s.id)).counts).toMatchObject({ inProgress: 0, succeeded: 0 });

    await site.op('mutation($id: ID!) { cancelBootSession(id: $id) { status } }', { id: s.id });
    await until('the drained nodes resumed', () => drained.every((name) => !/DRAIN/.test(states().get(name)!.state)), 30_000);
    expect(await sessionOf(s.id)).toMatchObject({ drainedAhead: WINDOW, resumedAhead: WINDOW, claimed: 0, powerCycled: 0 });
    expect(site.nodes.map((n) => site.resets(n).length)).toEqual(resetsBefore);
    for (const j of long) expect(slurm.job(j).JobState).toBe('RUNNING');
    slurm.run('scancel', long);
  });
});
