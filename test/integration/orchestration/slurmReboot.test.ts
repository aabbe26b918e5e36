/**
 * `scontrol reboot ASAP nextstate=resume` on staged nodes, for real: Debian's slurmctld
 * (RebootProgram=skyboot-slurm-reboot, SlurmctldParameters=reboot_from_controller) runs the program,
 * which maps nid names to xnames through the inventory's NIDs and calls applyStaged on the local
 * stack. The test reads slurmctld's call from the program's log and the session's node records.
 * A node's reboot itself is simulated by restarting its slurmd with -b (what a rebooted node's
 * slurmd reports); the agent's rollout (power cycle, boot token) is tested elsewhere.
 */
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { startSlurmCluster, type SlurmCluster } from '../../support/slurm.js';
import { blob, siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import type { SlurmRebootResult } from '../../../cli/slurmReboot.js';

jest.setTimeout(180_000);

const XNAMES: [string, string, string] = ['x1000c0s0b0n0', 'x1000c0s1b0n0', 'x1000c0s2b0n0'];

describe('skyboot-slurm-reboot: slurmctld reboots staged nodes through applyStaged', () => {
  let gw: TestGateway;
  let fx: SiteFixture;
  let slurm: SlurmCluster;
  let sessionId: string;
  const log = join(mkdtempSync(join(tmpdir(), 'slurm-reboot-')), 'calls.jsonl');
  const calls = (): SlurmRebootResult[] => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as SlurmRebootResult) : []);
  const ok = <T>(r: { data?: T | null; errors?: unknown[] }): T => {
    if (r.errors?.length || !r.data) throw new Error(JSON.stringify(r.errors));
    return r.data;
  };
  const phases = async () => {
    const s = ok(await gw.gql<{ bootSession: { nodes: { edges: { node: { xname: string; phase: string } }[] } } }>(
      'query($id: ID!) { bootSession(id: $id) { nodes(first: 10) { edges { node { xname phase } } } } }', { id: sessionId })).bootSession;
    return Object.fromEntries(s.nodes.edges.map((e) => [e.node.xname, e.node.phase]));
  };

  beforeAll(async () => {
    gw = await startTestGateway();
    fx = await siteFixture(gw, 'wlm');
    ok(await gw.gql('mutation($in: [ComponentInput!]!) { upsertComponents(input: $in) { failed } }', { in: [{ xname: XNAMES[2], site: fx.site, role: 'COMPUTE', nid: 3, arch: 'X86' }] }));
    const image = await fx.pushImage('compute-v2', blob(1000), blob(2000));
    ok(await gw.gql('mutation($i: BootTemplateInput!) { putBootTemplate(input: $i) { version } }', { i: { name: 'compute-v2', site: fx.site, bootSets: [{ name: 'compute', imageId: image, xnames: XNAMES }] } }, gw.tokens.operator));
    const created = ok(await gw.gql<{ createBootSession: { id: string; counts: { staged: number } } }>(
      'mutation($i: BootSessionInput!) { createBootSession(input: $i) { id counts { staged } } }',
      { i: { template: 'compute-v2', site: fx.site, operation: 'REBOOT', stage: true, maxConcurrent: 2 } }, gw.tokens.operator)).createBootSession;
    expect(created.counts.staged).toBe(3);
    sessionId = created.id;
    slurm = await startSlurmCluster({
      nodes: ['nid000001', 'nid000002', 'nid000003'],
      extraConf: [`RebootProgram=${resolve('bin/skyboot-slurm-reboot.js')}`, 'SlurmctldParameters=reboot_from_controller', 'ResumeTimeout=600'],
      ctldEnv: { SKYBOOT_URL: `${gw.url}/graphql`, SKYBOOT_TOKEN: gw.tokens.operator, SKYBOOT_SITE: fx.site, SKYBOOT_SLURM_REBOOT_LOG: log },
    });
  });
  afterAll(async () => {
    await slurm?.stop();
    await gw?.close();
  });

  it('applies staged state node by node as Slurm frees them, never touching the running job, and resumes them after the boot', async () => {
    const job = /Submitted batch job (\d+)/.exec(slurm.run('sbatch', ['-o', '/dev/null', '-w', 'nid000002', '--wrap', 'sleep 10']))![1]!;
    await slurm.waitFor('the job to run', () => slurm.job(job).JobState === 'RUNNING');

    slurm.run('scontrol', ['reboot', 'ASAP', 'nextstate=resume', 'nid00000[1-2]']);
    await slurm.waitFor('slurmctld to run the RebootProgram for the idle node', () => calls().length >= 1, 60_000);
    expect(calls()[0]?.error).toBeUndefined();
    expect(calls()[0]).toMatchObject({ nodes: ['nid000001'], xnames: [XNAMES[0]], succeeded: [XNAMES[0]], failed: [], ignored: [], unknown: [] });
    expect((await phases())[XNAMES[1]]).toBe('STAGED');
    expect(slurm.job(job).JobState).toBe('RUNNING');

    await slurm.waitFor('the busy node to be rebooted once its job ended', () => calls().length >= 2, 90_000);
    expect(calls()[1]).toMatchObject({ nodes: ['nid000002'], succeeded: [XNAMES[1]], failed: [] });
    const done = slurm.job(job);
    expect([done.JobState, done.Restarts]).toEqual(['COMPLETED', '0']);
    const after = await phases();
    expect(after[XNAMES[0]]).not.toBe('STAGED');
    expect(after[XNAMES[1]]).not.toBe('STAGED');
    expect(after[XNAMES[2]]).toBe('STAGED');

    for (const n of ['nid000001', 'nid000002']) expect(slurm.nodeState(n)).toMatch(/REBOOT_ISSUED/);
    await slurm.rebootNode('nid000001');
    await slurm.rebootNode('nid000002');
    await slurm.waitFor('both nodes back in service (nextstate=resume)', () => ['nid000001', 'nid000002'].every((n) => slurm.nodeState(n) === 'IDLE'), 60_000);
  });

  it('is harmless twice, and names a Slurm node the inventory does not know', async () => {
    const { runSlurmReboot } = await import('../../../cli/slurmReboot.js');
    const out: string[] = [];
    const env = { SKYBOOT_URL: `${gw.url}/graphql`, SKYBOOT_TOKEN: gw.tokens.operator, SKYBOOT_SITE: fx.site };
    const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s) };
    expect(await runSlurmReboot(['nid000001'], env, io)).toBe(0);
    expect(JSON.parse(out[0]!)).toMatchObject({ succeeded: [], ignored: [XNAMES[0]] });
    out.length = 0;
    expect(await runSlurmReboot(['nid00000[3-4]'], env, io)).toBe(1);
    expect(JSON.parse(out[0]!)).toMatchObject({ nodes: ['nid000003', 'nid000004'], succeeded: [XNAMES[2]], unknown: ['nid000004'] });
    expect(out[1]).toMatch(/no xname for Slurm node\(s\) nid000004/);
  });
});
