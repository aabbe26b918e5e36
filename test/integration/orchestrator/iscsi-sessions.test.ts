/**
 * The sessions timer `run` starts: a login to (and a logout from) a real tgtd export shows up in
 * the outbox without any snapshot change.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SiteSnapshot } from '../../../schema/siteSnapshot.js';
import { ArtifactCache } from '../../../onprem-agent/cache/artifactCache.js';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { createIscsiService } from '../../../onprem-agent/iscsi/service.js';
import type { IscsiSessionsReport } from '../../../onprem-agent/iscsi/sessions-report.js';
import { startOrchestrator } from '../../../onprem-agent/orchestrator/start.js';
import { buildSquashfs, holdSession, startTgtd, type Tgtd } from '../iscsi/tgtd.js';

const XNAME = 'x1000c0s3b0n0';
let dir: string;
let tgtd: Tgtd;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skyboot-orch-iscsi-'));
  tgtd = await startTgtd();
});
afterAll(async () => {
  await tgtd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('logins and logouts are reported on the timer, between snapshots', async () => {
  const image = await buildSquashfs(dir, 'orch', 1);
  await mkdir(join(dir, 'data', 'cache', 'sha256'), { recursive: true });
  await copyFile(image.path, join(dir, 'data', 'cache', 'sha256', image.sha256));
  const sent: IscsiSessionsReport[] = [];
  const service = createIscsiService({
    config: resolveConfig({ dataDir: join(dir, 'data'), iscsi: 'tgt', tgtControlPort: String(tgtd.controlPort) }),
    agentName: 'agent-o', cache: new ArtifactCache(join(dir, 'data', 'cache')),
    sink: { enqueue: async (_kind, payload) => void sent.push(payload as IscsiSessionsReport) },
  })!;
  const boot = { configId: 'c1', matchedSelector: 'role:Compute', imageId: 'img-o', kernel: 'k'.repeat(64), initrd: null, rootfs: image.sha256, kernelParameters: '', rootfsProvider: 'ISCSI' as const };
  const snapshot: SiteSnapshot = {
    site: 'site1', siteDomain: 'site1.example.org', revision: 1, unchanged: false, contentHash: 'h1', generatedAt: new Date().toISOString(),
    nodes: [{ xname: XNAME, nid: null, role: 'Compute', subRole: null, arch: 'X86', groups: [], interfaces: [], boot, cloudInit: null }],
    discovery: [],
    artifacts: [{ sha256: image.sha256, size: image.size, type: 'rootfs', status: 'READY', url: null, urlExpiresAt: null }],
    images: [{ id: 'img-o', name: 'compute', version: '1', arch: 'X86', status: 'READY' }],
  };
  const plan = (await service.onSnapshot(snapshot))!;
  const targetIqn = plan.steps[0]!.targetIqn;
  expect(sent).toEqual([{ agent: 'agent-o', sessions: [] }]);

  const orchestrator = await startOrchestrator({ dataDir: join(dir, 'data'), client: null, iscsi: service, iscsiReportIntervalMs: 100 });
  try {
    const session = await holdSession({ portal: tgtd.portal, targetIqn, initiatorIqn: initiatorIqnFor(XNAME) }, tgtd.controlPort);
    try {
      await until('the login report', () => sent.length === 2);
      expect(sent[1]).toEqual({ agent: 'agent-o', sessions: [{ targetIqn, lun: 1, initiatorIqn: initiatorIqnFor(XNAME), xname: XNAME, rootfsSha256: image.sha256 }] });
      // Unchanged sessions are not sent again on later ticks.
      await new Promise((r) => setTimeout(r, 400));
      expect(sent).toHaveLength(2);
    } finally {
      await session.close();
    }
    await until('the logout report', () => sent.length === 3);
    expect(sent[2]).toEqual({ agent: 'agent-o', sessions: [] });
  } finally {
    await orchestrator.stop();
  }
  expect(orchestrator.power).toBeNull();
}, 60_000);
