/**
 * The iSCSI service as `skyboot-agent run` drives it, end to end on real parts: an image set in
 * the cloud (test gateway, s3rver), an agent that downloads and verifies the rootfs itself and
 * exports it on a real tgtd, and libiscsi's iscsi-ls/iscsi-inq as the node. Nothing is put in
 * the agent's cache by the test.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../../onprem-agent/config.js';
import { exportTargetIqn, initiatorIqnFor, targetIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import type { IscsiServiceStatus } from '../../../onprem-agent/iscsi/service.js';
import { startAgent, type RunningAgent } from '../../../onprem-agent/run/agent.js';
import { startTestCloud, type TestCloud } from '../sync/cloud.js';
import { httpFrom } from '../../support/httpFrom.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';
import { deleteRootfs, pushIscsiImage, putRootfs, until, type Squashfs } from './siteImage.js';
import { buildSquashfs, holdSession, iscsiUrl, requireTools, run, startTgtd, type Tgtd } from './tgtd.js';

const NODE_A = { xname: 'x1000c0s0b0n0', mac: '02-00-00-00-00-01', ip: '127.0.0.2' };
const NODE_B = { xname: 'x1000c0s1b0n0', mac: '02-00-00-00-00-02', ip: '127.0.0.3' };
const DOMAIN = 'test.skyboot';

let cloud: TestCloud;
let fx: SiteFixture;
let dir: string;
let rootA: Squashfs;
let rootB: Squashfs;
let imageA: string;
let imageB: string;
const tgtds: Tgtd[] = [];
const agents: RunningAgent[] = [];

beforeAll(async () => {
  requireTools('iscsi-ls', 'iscsi-inq', 'qemu-io');
  cloud = await startTestCloud();
  // The nodes' inventory addresses are on loopback, so each asks for its boot script from its own
  // address (a script with the node's CHAP secret is served to that node only).
  fx = await siteFixture(cloud.gw, 'iscsi-svc', { nodeAddresses: [NODE_A.ip, NODE_B.ip] });
  dir = mkdtempSync(join(tmpdir(), 'skyboot-iscsi-svc-'));
  rootA = await buildSquashfs(dir, 'root-a', 1);
  rootB = await buildSquashfs(dir, 'root-b', 1);
  imageA = await pushIscsiImage(cloud, fx, 'root-a', rootA);
  imageB = await pushIscsiImage(cloud, fx, 'root-b', rootB);
  writeFileSync(join(dir, 'agent.token'), fx.agentToken);
}, 60_000);

afterAll(async () => {
  for (const a of agents) await a.stop();
  for (const t of tgtds) await t.stop();
  await cloud?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function agentOn(name: string, opts: { chap?: 'one-way' | 'mutual' } = {}): Promise<{ agent: RunningAgent; tgtd: Tgtd }> {
  const tgtd = await startTgtd();
  tgtds.push(tgtd);
  const agent = await startAgent(
    resolveConfig({
      cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, name), http: '127.0.0.1:0', syncInterval: 3600,
      iscsi: 'tgt', iscsiPortal: tgtd.portal, tgtControlPort: String(tgtd.controlPort), ...(opts.chap ? { iscsiChap: opts.chap } : {}),
    }),
    { agentName: name, outboxBackoffBaseMs: 50, syncBackoffBaseMs: 50 },
  );
  agents.push(agent);
  return { agent, tgtd };
}

const iscsiStatus = async (agent: RunningAgent) => (await agent.status()).iscsi as IscsiServiceStatus;
const bootScript = async (agent: RunningAgent, mac: string) => {
  const from = [NODE_A, NODE_B].find((n) => n.mac === mac)?.ip ?? '127.0.0.1';
  return (await httpFrom(from, `${agent.httpUrl}/boot/v1/bootscript?mac=${mac}`)).text();
};
const targetOf = (agentName: string, rootfs: Squashfs) => exportTargetIqn(targetIqnFor(agentName, DOMAIN), rootfs.sha256);

/** What a node's discovery shows: the target and its image LUN, through libiscsi, as `initiator`. */
async function lunVisible(tgtd: Tgtd, initiator: string, target: string): Promise<boolean> {
  const r = await run('iscsi-ls', ['-s', '-i', initiator, `iscsi://${tgtd.portal}`]);
  return r.stdout.includes(`Target:${target}`) && /Lun:1\s+Type:DIRECT_ACCESS/.test(r.stdout);
}

describe('exports follow the verified cache (agent-a, no CHAP)', () => {
  let agent: RunningAgent;
  let tgtd: Tgtd;
  let target: string;
  const initiatorA = initiatorIqnFor(NODE_A.xname);

  beforeAll(async () => {
    // The rootfs is READY in the cloud but its object cannot be fetched: the agent cannot cache it yet.
    await deleteRootfs(cloud, rootA);
    await fx.setBoot({ selector: { xnames: [NODE_A.xname] }, imageId: imageA, kernelParameters: 'console=ttyS0', rootfsProvider: 'ISCSI' });
    ({ agent, tgtd } = await agentOn('agent-a'));
    target = targetOf('agent-a', rootA);
  }, 60_000);

  it('shows the skipped export with its reason, and the node’s boot script waits, saying why', async () => {
    const s = await until('the skipped export in status', async () => {
      agent.syncer.wake();
      const st = await iscsiStatus(agent);
      return st.skipped.length > 0 && st;
    });
    expect(s.skipped).toEqual([{ imageId: imageA, rootfsSha256: rootA.sha256, reason: `rootfs sha256:${rootA.sha256} is not in the cache yet` }]);
    expect(s.lastError).toContain(`rootfs sha256:${rootA.sha256} is not in the cache yet`);
    expect(s.exports).toEqual([]);
    const script = await bootScript(agent, NODE_A.mac);
    expect(script).toContain(`echo Skyboot: ${NODE_A.xname} waits: rootfs sha256:${rootA.sha256} is not in the cache yet (attempt 1 of 20)`);
    expect(script).toContain(`chain --replace --autofree ${agent.httpUrl}/boot/v1/bootscript?mac=02:00:00:00:00:01&attempt=2`);
    expect(script).not.toContain('netroot=');
    expect(await lunVisible(tgtd, initiatorA, target)).toBe(false);
  }, 30_000);

  it('exports the rootfs within seconds of its download finishing, with no snapshot change', async () => {
    const revision = agent.syncer.status().revision;
    await putRootfs(cloud, rootA);
    const t0 = Date.now();
    // The syncer retries missing artifacts every 5 s; the export follows the cache's event.
    await until('the LUN in iscsi-ls', () => lunVisible(tgtd, initiatorA, target), 20_000);
    const seconds = (Date.now() - t0) / 1000;
    expect(seconds).toBeLessThan(15);
    expect(agent.syncer.status().revision).toBe(revision);
    // The boot script names the root once the reconcile has read the export back (moments later).
    const script = await until('the root in the boot script', async () => {
      const text = await bootScript(agent, NODE_A.mac);
      return text.includes('netroot=') && text;
    }, 5_000);
    const s = await iscsiStatus(agent);
    expect(s).toMatchObject({ lastError: null, skipped: [], exports: [{ imageId: imageA, rootfsSha256: rootA.sha256, targetIqn: target, initiators: 1 }] });
    expect(script).toContain(`netroot=iscsi:${tgtd.portal.replace(/:(\d+)$/, '::$1')}:1:${target}`);
    expect(script).toContain(`rd.iscsi.initiator=${initiatorA}`);
    expect(script).not.toContain('waits:');
  }, 30_000);

  it('notices a tgtd restart and exports again', async () => {
    await tgtd.restart();
    expect(await lunVisible(tgtd, initiatorA, target)).toBe(false);
    const before = (await iscsiStatus(agent)).driftRepairs;
    const t0 = Date.now();
    await until('the LUN after the tgtd restart', () => lunVisible(tgtd, initiatorA, target), 20_000);
    expect((Date.now() - t0) / 1000).toBeLessThan(15);
    expect((await iscsiStatus(agent)).driftRepairs).toBe(before + 1);
  }, 30_000);

  it('keeps an exported rootfs with a node logged in through GC, after the snapshot stops naming it', async () => {
    const session = await holdSession({ portal: tgtd.portal, targetIqn: target, initiatorIqn: initiatorA }, tgtd.controlPort);
    try {
      await fx.setBoot({ selector: { xnames: [NODE_A.xname] }, imageId: fx.imageId, kernelParameters: 'console=ttyS0' });
      const r = await agent.syncer.syncOnce();
      expect(r.changed).toBe(true);
      expect(agent.syncer.index!.referenced().has(rootA.sha256)).toBe(false);
      // The GC of that pass ran: the rootfs stays because tgt still exports it.
      expect(existsSync(join(agent.cache.verifiedDir, rootA.sha256))).toBe(true);
      await until('the deferred removal in status', async () => (await iscsiStatus(agent)).deferred.some((d) => d.targetIqn === target && d.what === 'remove-export'));
      expect((await iscsiStatus(agent)).deferred.find((d) => d.targetIqn === target)!.reason).toContain(`logged in: ${initiatorA}`);
      expect(await lunVisible(tgtd, initiatorA, target)).toBe(true);
    } finally {
      await session.close();
    }
    // Logged out, the grace period (a day by default) still holds the export (the periodic check
    // sees the logout), and so the file.
    await until('the grace period in status', async () => /^unreferenced since .*; grace period ends /.test((await iscsiStatus(agent)).deferred.find((d) => d.targetIqn === target)?.reason ?? ''), 15_000);
    await agent.syncer.syncOnce();
    expect(existsSync(join(agent.cache.verifiedDir, rootA.sha256))).toBe(true);
    // A node still running from it can log in again (a network blip) until the grace period ends.
    expect(await lunVisible(tgtd, initiatorA, target)).toBe(true);
  }, 40_000);
});

describe('per-node CHAP (agent-c, one-way)', () => {
  let agent: RunningAgent;
  let tgtd: Tgtd;
  const creds = (script: string) => {
    const m = /netroot=iscsi:([^:@\s]+):([^:@\s]+)@/.exec(script);
    if (!m) throw new Error(`no CHAP credentials in the boot script:\n${script}`);
    return { user: m[1]!, secret: m[2]! };
  };

  beforeAll(async () => {
    await fx.setBoot({ selector: { xnames: [NODE_A.xname] }, imageId: imageA, kernelParameters: 'console=ttyS0', rootfsProvider: 'ISCSI' });
    await fx.setBoot({ selector: { xnames: [NODE_B.xname] }, imageId: imageB, kernelParameters: 'console=ttyS0', rootfsProvider: 'ISCSI' });
    ({ agent, tgtd } = await agentOn('agent-c', { chap: 'one-way' }));
    // The snapshot is built from eventually consistent reads: pull again (as the sync interval
    // would) until both nodes' configurations are in it and both roots are exported.
    await until('both exports in both boot scripts', async () => {
      agent.syncer.wake();
      return (await iscsiStatus(agent)).exports.length === 2
        && (await bootScript(agent, NODE_A.mac)).includes('netroot=') && (await bootScript(agent, NODE_B.mac)).includes('netroot=');
    }, 30_000);
  }, 60_000);

  it('gives each node its own secret, in its own boot script only, and never in status', async () => {
    const a = creds(await bootScript(agent, NODE_A.mac));
    const b = creds(await bootScript(agent, NODE_B.mac));
    expect(a.user).toBe(`skyboot-iscsi-svc.${NODE_A.xname}`);
    expect(b.user).toBe(`skyboot-iscsi-svc.${NODE_B.xname}`);
    expect(a.secret).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(a.secret).not.toBe(b.secret);
    expect(await bootScript(agent, NODE_B.mac)).not.toContain(a.secret);
    // Node B asking for node A's script is refused: the script holds A's secret.
    const stolen = await httpFrom(NODE_B.ip, `${agent.httpUrl}/boot/v1/bootscript?mac=${NODE_A.mac}`);
    expect(stolen.status).toBe(403);
    expect(stolen.text()).not.toContain(a.secret);
    expect(JSON.stringify(await agent.status())).not.toContain(a.secret);
  });

  it('lets node A in with its secret, and refuses it for node B’s login and LUN', async () => {
    const a = creds(await bootScript(agent, NODE_A.mac));
    const targetA = targetOf('agent-c', rootA);
    const targetB = targetOf('agent-c', rootB);
    const inq = (initiator: string, targetIqn: string, c: { user: string; secret: string } | null) =>
      run('iscsi-inq', ['-i', initiator, iscsiUrl({ portal: tgtd.portal, targetIqn, initiatorIqn: initiator, ...(c ?? {}) })]);

    const own = await inq(initiatorIqnFor(NODE_A.xname), targetA, a);
    expect(own.stderr).toBe('');
    expect(own.stdout).toContain('Peripheral Device Type:DIRECT_ACCESS');
    // Node A's secret, presented under node B's initiator name, on node B's target.
    const asB = await inq(initiatorIqnFor(NODE_B.xname), targetB, a);
    expect(asB.code).not.toBe(0);
    expect(asB.stderr).toContain('Authentication failure');
    // Node A's secret, presented under node B's account name.
    const asBUser = await inq(initiatorIqnFor(NODE_B.xname), targetB, { user: `skyboot-iscsi-svc.${NODE_B.xname}`, secret: a.secret });
    expect(asBUser.code).not.toBe(0);
    expect(asBUser.stderr).toContain('Authentication failure');
    // Without credentials the target refuses even the right initiator.
    const none = await inq(initiatorIqnFor(NODE_A.xname), targetA, null);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('Authentication failure');
    // And node B's own secret works for node B.
    const b = creds(await bootScript(agent, NODE_B.mac));
    expect((await inq(initiatorIqnFor(NODE_B.xname), targetB, b)).stdout).toContain('Peripheral Device Type:DIRECT_ACCESS');
  }, 30_000);
});
