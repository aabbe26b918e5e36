/**
 * The sessions timer `run` starts: a node's login to (and logout from) the LUN the agent
 * exported by itself (the rootfs downloaded from S3 through the snapshot, never copied in by the
 * test) reaches the cloud through the outbox without any snapshot change, and shows on the
 * node's `iscsiSessions` through the gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { exportTargetIqn, initiatorIqnFor, targetIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { ISCSI_REPORT_INTERVAL_ENV } from '../../../onprem-agent/orchestrator/start.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import { pushIscsiImage, until } from '../iscsi/siteImage.js';
import { buildSquashfs, holdSession, requireTools, run, startTgtd, type Tgtd } from '../iscsi/tgtd.js';

const XNAME = 'x1000c0s0b0n0';
let cloud: TestCloud;
let fx: SiteFixture;
let dir: string;
let tgtd: Tgtd;
let agent: RunningAgent | undefined;
const previousInterval = process.env[ISCSI_REPORT_INTERVAL_ENV];

beforeAll(async () => {
  requireTools('iscsi-ls', 'qemu-io');
  cloud = await startTestCloud();
  fx = await siteFixture(cloud.gw, 'orch-iscsi');
  dir = mkdtempSync(join(tmpdir(), 'skyboot-orch-iscsi-'));
  tgtd = await startTgtd();
}, 60_000);
afterAll(async () => {
  await agent?.stop();
  await tgtd?.stop();
  await cloud?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (previousInterval === undefined) delete process.env[ISCSI_REPORT_INTERVAL_ENV];
  else process.env[ISCSI_REPORT_INTERVAL_ENV] = previousInterval;
});

interface Seen { agent: string; lun: number; initiatorIqn: string; xname: string | null; rootfsSha256: string }
const sessions = async (): Promise<Seen[]> => {
  const r = await cloud.gw.gql<{ component: { iscsiSessions: Seen[] } }>(
    `{ component(xname: "${XNAME}", site: "orch-iscsi") { iscsiSessions { agent lun initiatorIqn xname rootfsSha256 } } }`, undefined, cloud.gw.tokens.viewer);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  return r.data!.component.iscsiSessions;
};

test('logins and logouts reach the cloud on the timer, between snapshots', async () => {
  const image = await buildSquashfs(dir, 'orch', 1);
  const imageId = await pushIscsiImage(cloud, fx, 'orch', image);
  await fx.setBoot({ selector: { xnames: [XNAME] }, imageId, kernelParameters: 'console=ttyS0', rootfsProvider: 'ISCSI' });
  writeFileSync(join(dir, 'agent.token'), fx.agentToken);
  process.env[ISCSI_REPORT_INTERVAL_ENV] = '0.2';
  agent = await startAgent(
    resolveConfig({
      cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'data'), http: '127.0.0.1:0', syncInterval: 3600,
      iscsi: 'tgt', iscsiPortal: tgtd.portal, tgtControlPort: String(tgtd.controlPort),
    }),
    { agentName: 'agent-o', outboxBackoffBaseMs: 50 },
  );
  const targetIqn = exportTargetIqn(targetIqnFor('agent-o', 'test.skyboot'), image.sha256);
  const initiatorIqn = initiatorIqnFor(XNAME);
  await until('the agent’s own export of the downloaded rootfs', async () => {
    const r = await run('iscsi-ls', ['-s', '-i', initiatorIqn, `iscsi://${tgtd.portal}`]);
    return r.stdout.includes(`Target:${targetIqn}`);
  });
  const revision = agent.syncer.status().revision;

  const session = await holdSession({ portal: tgtd.portal, targetIqn, initiatorIqn }, tgtd.controlPort);
  try {
    const seen = await until('the login in the cloud', async () => (await sessions()).length === 1 && sessions());
    expect(seen).toEqual([{ agent: 'agent-o', lun: 1, initiatorIqn, xname: XNAME, rootfsSha256: image.sha256 }]);
  } finally {
    await session.close();
  }
  await until('the logout in the cloud', async () => (await sessions()).length === 0);
  // No snapshot change carried any of it.
  expect(agent.syncer.status().revision).toBe(revision);
}, 90_000);
