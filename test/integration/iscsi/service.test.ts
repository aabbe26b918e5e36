/** The service `run` drives: snapshot in, exports on a real tgtd, sessions out to the outbox. */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteSnapshot } from '../../../schema/siteSnapshot.js';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { createIscsiService } from '../../../onprem-agent/iscsi/service.js';
import { ISCSI_SESSIONS_KIND, type IscsiSessionsReport } from '../../../onprem-agent/iscsi/sessions-report.js';
import { buildSquashfs, holdSession, startTgtd, type Tgtd } from './tgtd.js';

let dir: string;
let tgtd: Tgtd;
let image: { path: string; sha256: string; size: number };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skyboot-iscsi-svc-'));
  image = await buildSquashfs(dir, 'svc', 1);
  await mkdir(join(dir, 'data', 'cache', 'sha256'), { recursive: true });
  await copyFile(image.path, join(dir, 'data', 'cache', 'sha256', image.sha256));
  tgtd = await startTgtd();
});

afterAll(async () => {
  await tgtd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function snapshot(revision: number, xnames: string[]): SiteSnapshot {
  const boot = { configId: 'c1', matchedSelector: 'role:Compute', imageId: 'img-1', kernel: 'k'.repeat(64), initrd: null, rootfs: image.sha256, kernelParameters: '', rootfsProvider: 'ISCSI' as const };
  return {
    site: 'site1', siteDomain: 'site1.example.org', revision, unchanged: false, contentHash: `h${revision}`, generatedAt: new Date().toISOString(),
    nodes: xnames.map((xname) => ({ xname, nid: null, role: 'Compute', subRole: null, arch: 'X86' as const, groups: [], interfaces: [], boot, cloudInit: null })),
    discovery: [],
    artifacts: [{ sha256: image.sha256, size: image.size, type: 'rootfs', status: 'READY', url: null, urlExpiresAt: null }],
    images: [{ id: 'img-1', name: 'compute', version: '1', arch: 'X86', status: 'READY' }],
  };
}

describe('iSCSI service', () => {
  it('reconciles on each snapshot, folds overlapping changes into one run, and reports sessions with xnames', async () => {
    const sent: Array<{ kind: string; payload: IscsiSessionsReport; key: string }> = [];
    const config = resolveConfig({ dataDir: join(dir, 'data'), iscsi: 'tgt', tgtControlPort: String(tgtd.controlPort) });
    const service = createIscsiService({
      config, agentName: 'agent-a', cache: new ArtifactCache(join(dir, 'data', 'cache')),
      sink: { enqueue: async (kind, payload, key) => void sent.push({ kind, payload: payload as IscsiSessionsReport, key }) },
    })!;
    const [first, second, third] = await Promise.all([
      service.onSnapshot(snapshot(1, ['x1000c0s0b0n0'])),
      service.onSnapshot(snapshot(2, ['x1000c0s0b0n0', 'x1000c0s0b0n1'])),
      service.onSnapshot(snapshot(3, ['x1000c0s0b0n0', 'x1000c0s0b0n1'])),
    ]);
    // All three arrived before the first run started: only the newest is reconciled, once.
    expect(first!.steps.map((s) => s.op)).toEqual(['ensure-export', 'bind-initiator', 'bind-initiator']);
    expect(second).toBeNull();
    expect(third).toBeNull();
    expect(sent).toHaveLength(1);
    expect((await service.onSnapshot(snapshot(4, ['x1000c0s0b0n0', 'x1000c0s0b0n1'])))!.steps).toEqual([]);

    const target = first!.steps[0]!.targetIqn;
    const session = await holdSession({ portal: tgtd.portal, targetIqn: target, initiatorIqn: initiatorIqnFor('x1000c0s0b0n1') }, tgtd.controlPort);
    try {
      expect((await service.onSnapshot(snapshot(5, ['x1000c0s0b0n0', 'x1000c0s0b0n1'])))!.steps).toEqual([]);
    } finally {
      await session.close();
    }
    const last = sent[sent.length - 1]!;
    expect(last.kind).toBe(ISCSI_SESSIONS_KIND);
    expect(last.payload).toEqual({
      agent: 'agent-a',
      sessions: [{ targetIqn: target, lun: 1, initiatorIqn: initiatorIqnFor('x1000c0s0b0n1'), xname: 'x1000c0s0b0n1', rootfsSha256: image.sha256 }],
    });
    expect(sent[0]!.payload.sessions).toEqual([]);
    expect(last.key).not.toBe(sent[0]!.key);
    // Unchanged sessions are not sent again; the logout is sent without waiting for a snapshot.
    expect(sent).toHaveLength(2);
    expect(await service.reportSessions()).toEqual({ agent: 'agent-a', sessions: [] });
    expect(sent).toHaveLength(3);
    expect(await service.reportSessions()).toBeNull();
    expect(sent).toHaveLength(3);
  });
});
