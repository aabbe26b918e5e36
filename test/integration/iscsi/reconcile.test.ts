/**
 * Reconcile against a real tgtd: references added, changed and removed; idempotence; the grace
 * period; and an image kept exported while a qemu-io session holds it open.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildIscsiDesiredState, type IscsiDesiredState, type NodeBootInput } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { reconcileExports } from '../../../onprem-agent/iscsi/reconcile.js';
import { TgtBackend } from '../../../onprem-agent/iscsi/tgt-backend.js';
import { UNREFERENCED_FILE } from '../../../onprem-agent/iscsi/unreferenced-store.js';
import { buildSquashfs, holdSession, requireTools, run, startTgtd, type Tgtd } from './tgtd.js';

const SITE = 'site1.example.org';
const GRACE = 60 * 60 * 1000;
const N1 = 'x1000c0s0b0n0';
const N2 = 'x1000c0s0b0n1';

let dir: string;
let tgtd: Tgtd;
let backend: TgtBackend;
let v1: { path: string; sha256: string; size: number };
let v2: { path: string; sha256: string; size: number };
const t0 = new Date('2026-11-21T10:00:00Z');

function desired(nodes: NodeBootInput[]): IscsiDesiredState {
  return buildIscsiDesiredState({
    agentName: 'agent-a',
    siteDomain: SITE,
    images: [
      { imageId: 'img-v1', imageName: 'compute', version: '1', status: 'READY', rootfsSha256: v1.sha256, rootfsSize: v1.size },
      { imageId: 'img-v2', imageName: 'compute', version: '2', status: 'READY', rootfsSha256: v2.sha256, rootfsSize: v2.size },
    ],
    nodes,
    cachedPath: (sha) => (sha === v1.sha256 ? v1.path : sha === v2.sha256 ? v2.path : undefined),
  });
}

const reconcile = (d: IscsiDesiredState, now: Date): ReturnType<typeof reconcileExports> =>
  reconcileExports({ backend, desired: d, dataDir: join(dir, 'data'), chap: null, gracePeriodMs: GRACE, now });

const at = (ms: number): Date => new Date(t0.getTime() + ms);

beforeAll(async () => {
  requireTools('iscsi-ls', 'qemu-io');
  dir = await mkdtemp(join(tmpdir(), 'skyboot-iscsi-gc-'));
  v1 = await buildSquashfs(dir, 'v1', 1);
  v2 = await buildSquashfs(dir, 'v2', 1);
  tgtd = await startTgtd();
  backend = new TgtBackend({ controlPort: tgtd.controlPort });
});

afterAll(async () => {
  await tgtd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('export reconcile on tgt', () => {
  const bothOnV1: NodeBootInput[] = [{ xname: N1, imageId: 'img-v1', rootfsProvider: 'ISCSI' }, { xname: N2, imageId: 'img-v1', rootfsProvider: 'ISCSI' }];
  const splitV1V2: NodeBootInput[] = [{ xname: N1, imageId: 'img-v1', rootfsProvider: 'ISCSI' }, { xname: N2, imageId: 'img-v2', rootfsProvider: 'ISCSI' }];
  const bothOnV2: NodeBootInput[] = [{ xname: N1, imageId: 'img-v2', rootfsProvider: 'ISCSI' }, { xname: N2, imageId: 'img-v2', rootfsProvider: 'ISCSI' }];

  it('exports a newly referenced image and then has nothing left to do', async () => {
    const first = await reconcile(desired(bothOnV1), t0);
    expect(first.plan.steps.map((s) => s.op)).toEqual(['ensure-export', 'bind-initiator', 'bind-initiator']);
    const second = await reconcile(desired(bothOnV1), t0);
    expect(second.plan.steps).toEqual([]);
    expect(second.applied).toBe(0);
    const exports = await backend.listExports();
    expect(exports).toHaveLength(1);
    expect(exports[0]!.acl.sort()).toEqual([initiatorIqnFor(N1), initiatorIqnFor(N2)]);
    expect(exports[0]!.lun).toMatchObject({ readonly: true, backingPath: v1.path });
  });

  it('gives a changed image a new LUN and leaves the old one untouched for the nodes still on it', async () => {
    const [oldTarget] = desired(bothOnV1).exports.map((e) => e.targetIqn);
    const r = await reconcile(desired(splitV1V2), at(1000));
    const newTarget = desired(splitV1V2).exports[1]!.targetIqn;
    expect(r.plan.steps.map((s) => `${s.op} ${s.targetIqn}`)).toEqual([
      `ensure-export ${newTarget}`,
      `bind-initiator ${newTarget}`,
      `unbind-initiator ${oldTarget}`,
    ]);
    const exports = await backend.listExports();
    const old = exports.find((e) => e.targetIqn === oldTarget)!;
    expect(old.lun!.backingPath).toBe(v1.path);
    expect(old.acl).toEqual([initiatorIqnFor(N1)]);
    expect((await reconcile(desired(splitV1V2), at(2000))).plan.steps).toEqual([]);
  });

  it('keeps an unreferenced image while a node is logged in, even past the grace period, and removes it after logout', async () => {
    const oldTarget = desired(bothOnV1).exports[0]!.targetIqn;
    const session = await holdSession({ portal: tgtd.portal, targetIqn: oldTarget, initiatorIqn: initiatorIqnFor(N1) }, tgtd.controlPort);
    try {
      const moved = await reconcile(desired(bothOnV2), at(3000));
      expect(moved.plan.steps.map((s) => s.op)).toEqual(['bind-initiator']);
      expect(moved.plan.deferred).toEqual([{ targetIqn: oldTarget, what: 'remove-export', reason: `logged in: ${initiatorIqnFor(N1)}` }]);
      const persisted = JSON.parse(await readFile(join(dir, 'data', UNREFERENCED_FILE), 'utf8')) as Record<string, string>;
      expect(persisted).toEqual({ [oldTarget]: at(3000).toISOString() });

      const late = await reconcile(desired(bothOnV2), at(3000 + 2 * GRACE));
      expect(late.plan.steps).toEqual([]);
      expect((await backend.listExports()).map((e) => e.targetIqn)).toContain(oldTarget);
      const still = await run('iscsi-ls', ['-s', '-i', initiatorIqnFor(N1), `iscsi://${tgtd.portal}`]);
      expect(still.stdout).toContain(oldTarget);
    } finally {
      await session.close();
    }
    // The first-seen time survived two runs, so the grace period is already over once the session ends.
    const gc = await reconcile(desired(bothOnV2), at(3000 + 2 * GRACE + 1));
    expect(gc.plan.steps).toEqual([{ op: 'remove-export', targetIqn: oldTarget, unreferencedSince: at(3000).toISOString() }]);
    expect((await backend.listExports()).map((e) => e.targetIqn)).toEqual([desired(bothOnV2).exports[0]!.targetIqn]);
    expect((await reconcile(desired(bothOnV2), at(3000 + 2 * GRACE + 2))).plan).toEqual({ steps: [], deferred: [], unreferencedSince: {} });
  });

  it('waits for the grace period before removing an image nobody is logged in to', async () => {
    const v2Target = desired(bothOnV2).exports[0]!.targetIqn;
    const t = at(10 * GRACE);
    const early = await reconcile(desired([]), t);
    expect(early.plan.steps).toEqual([]);
    expect(early.plan.deferred[0]).toMatchObject({ targetIqn: v2Target, what: 'remove-export' });
    expect((await reconcile(desired([]), new Date(t.getTime() + GRACE - 1))).plan.steps).toEqual([]);
    expect((await backend.listExports()).map((e) => e.targetIqn)).toEqual([v2Target]);
    const due = await reconcile(desired([]), new Date(t.getTime() + GRACE));
    expect(due.plan.steps.map((s) => s.op)).toEqual(['remove-export']);
    expect(await backend.listExports()).toEqual([]);
  });
});
