/**
 * A real tgtd exporting a real squashfs, read by libiscsi's user-space initiators and qemu:
 * discovery, size, content, write refusal, ACL, CHAP, and one identity across two agents.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreateChapSecrets, nodeChapAccount, type ChapSecrets } from '../../../onprem-agent/iscsi/chap.js';
import { buildIscsiDesiredState, type IscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor, lunIdentity } from '../../../onprem-agent/iscsi/naming.js';
import { reconcileExports } from '../../../onprem-agent/iscsi/reconcile.js';
import { TgtBackend } from '../../../onprem-agent/iscsi/tgt-backend.js';
import { buildSquashfs, iscsiUrl, qemuImageOpts, requireTools, run, sha256File, startTgtd, type Tgtd } from './tgtd.js';

const SITE = 'site1.example.org';
const ALLOWED = initiatorIqnFor('x1000c0s0b0n0');
const STRANGER = initiatorIqnFor('x1000c0s1b0n0');

let dir: string;
let image: { path: string; sha256: string; size: number };
let agentA: Tgtd;
let agentB: Tgtd | undefined;

function desiredFor(agentName: string, chap: ChapSecrets | null = null): IscsiDesiredState {
  return buildIscsiDesiredState({
    agentName,
    siteDomain: SITE,
    images: [{ imageId: 'img-compute', imageName: 'compute', version: '1.0.0', status: 'READY', rootfsSha256: image.sha256, rootfsSize: image.size }],
    nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'img-compute', rootfsProvider: 'ISCSI' }],
    cachedPath: (sha) => (sha === image.sha256 ? image.path : undefined),
    chap: chap?.policy ?? null,
  });
}

async function exportOn(tgtd: Tgtd, agentName: string, chap: ChapSecrets | null = null): Promise<string> {
  const desired = desiredFor(agentName, chap);
  await reconcileExports({ backend: new TgtBackend({ controlPort: tgtd.controlPort }), desired, dataDir: join(dir, agentName), chap });
  return desired.exports[0]!.targetIqn;
}

beforeAll(async () => {
  requireTools('iscsi-ls', 'iscsi-inq', 'iscsi-readcapacity16', 'iscsi-test-cu', 'qemu-img', 'qemu-io');
  dir = await mkdtemp(join(tmpdir(), 'skyboot-iscsi-'));
  image = await buildSquashfs(dir, 'compute', 4);
  agentA = await startTgtd();
});

afterAll(async () => {
  await agentA?.stop();
  await agentB?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tgt export of a squashfs image', () => {
  let target: string;
  beforeAll(async () => {
    target = await exportOn(agentA, 'agent-a');
  });

  it('is discoverable as a disk LUN by an initiator in the ACL', async () => {
    const r = await run('iscsi-ls', ['-s', '-i', ALLOWED, `iscsi://${agentA.portal}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Target:${target} Portal:${agentA.portal}`);
    expect(r.stdout).toMatch(/Lun:1\s+Type:DIRECT_ACCESS/);
  });

  it("reports the image's size", async () => {
    const r = await run('iscsi-readcapacity16', ['-i', ALLOWED, iscsiUrl({ portal: agentA.portal, targetIqn: target, initiatorIqn: ALLOWED })]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Total size:${image.size}`);
  });

  it("reads back bytes whose sha256 is the image's", async () => {
    const out = join(dir, 'readback.raw');
    const r = await run('qemu-img', ['convert', '--image-opts', qemuImageOpts({ portal: agentA.portal, targetIqn: target, initiatorIqn: ALLOWED }), '-O', 'raw', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await sha256File(out)).toBe(image.sha256);
  });

  it('refuses writes: WRITE(10) gets DATA PROTECT, qemu cannot open it writable, the file is unchanged', async () => {
    const url = iscsiUrl({ portal: agentA.portal, targetIqn: target, initiatorIqn: ALLOWED });
    const cu = await run('iscsi-test-cu', ['--dataloss', '-i', ALLOWED, '-t', 'SCSI.Write10.Simple', '-V', url]);
    expect(cu.stdout).toMatch(/WRITE10 command failed with status 2 \/ sense key DATA PROTECTION\(0x07\) \/ ASCQ WRITE_PROTECTED/);
    expect(cu.stdout).not.toMatch(/\[OK\] WRITE10/);
    const io = await run('qemu-io', ['-c', 'write -P 0xaa 0 4096', '--image-opts', qemuImageOpts({ portal: agentA.portal, targetIqn: target, initiatorIqn: ALLOWED })]);
    expect(io.code).not.toBe(0);
    expect(io.stderr).toContain('write protected');
    expect(await sha256File(image.path)).toBe(image.sha256);
  });

  it('refuses an initiator that is not in the ACL, at discovery and at login', async () => {
    const ls = await run('iscsi-ls', ['-s', '-i', STRANGER, `iscsi://${agentA.portal}`]);
    expect(ls.stdout).not.toContain(target);
    const inq = await run('iscsi-inq', ['-i', STRANGER, iscsiUrl({ portal: agentA.portal, targetIqn: target, initiatorIqn: STRANGER })]);
    expect(inq.code).not.toBe(0);
    expect(inq.stderr).toMatch(/Login Failed/);
  });
});

describe('tgt export with mutual CHAP', () => {
  let target: string;
  let chap: ChapSecrets;
  beforeAll(async () => {
    chap = await loadOrCreateChapSecrets(join(dir, 'chap-site'), 'mutual', 'site1');
    target = await exportOn(agentA, 'agent-a', chap);
  });
  const login = (over: Partial<Parameters<typeof iscsiUrl>[0]> = {}): Promise<Awaited<ReturnType<typeof run>>> =>
    run('iscsi-inq', ['-i', ALLOWED, iscsiUrl({ portal: agentA.portal, targetIqn: target, initiatorIqn: ALLOWED, ...over })]);

  const own = () => nodeChapAccount(chap, 'x1000c0s0b0n0');

  it('lets the node in with its own secret and verifies the target back', async () => {
    const r = await login({ user: own().user, secret: own().secret.reveal(), mutualUser: chap.policy.mutualUser!, mutualSecret: chap.mutualSecret!.reveal() });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Peripheral Device Type:DIRECT_ACCESS');
  });

  it('refuses a login without credentials', async () => {
    const r = await login();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Authentication failure');
  });

  it('refuses the site key itself: it is no account', async () => {
    const r = await login({ user: chap.policy.user, secret: chap.secret.reveal() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Authentication failure');
  });

  it('refuses a wrong secret', async () => {
    const r = await login({ user: own().user, secret: 'WrongSecret1234' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Authentication failure');
  });

  it('lets the node reject a target that does not know the mutual secret', async () => {
    const r = await login({ user: own().user, secret: own().secret.reveal(), mutualUser: chap.policy.mutualUser!, mutualSecret: 'NotTheTarget123' });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Invalid CHAP_R response from the target');
  });
});

describe('two agents', () => {
  it('export the image with the same SCSI identity (VPD 0x83 and 0x80) on different portals', async () => {
    agentB = await startTgtd();
    // A target agent B already has shifts tgt's tid order, which must not change the identity.
    await run('tgtadm', ['-C', String(agentB.controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'new', '--tid', '1', '--targetname', 'iqn.2026-11.org.example:unrelated']);
    // Reconciling agent A without CHAP also proves that turning CHAP off unbinds its users.
    const targetA = await exportOn(agentA, 'agent-a');
    const targetB = await exportOn(agentB, 'agent-b');
    expect(targetB).not.toBe(targetA);
    const vpd = async (portal: string, t: string, page: string): Promise<string> => {
      const r = await run('iscsi-inq', ['-i', ALLOWED, '-e', '1', '-c', page, iscsiUrl({ portal, targetIqn: t, initiatorIqn: ALLOWED })]);
      expect(r.stderr).toBe('');
      return r.stdout;
    };
    const id = lunIdentity(image.sha256);
    const a83 = await vpd(agentA.portal, targetA, '131');
    const b83 = await vpd(agentB.portal, targetB, '131');
    expect(a83).toContain(`Designator:[${id.scsiId}]`);
    expect(b83).toBe(a83);
    const a80 = await vpd(agentA.portal, targetA, '128');
    expect(a80).toContain(id.serial);
    expect(await vpd(agentB.portal, targetB, '128')).toBe(a80);
    // tgt's locally-assigned NAA is tid<<32|lun: equal tids keep that designator equal too.
    const tidOf = async (t: Tgtd, name: string): Promise<string | undefined> => {
      const r = await run('tgtadm', ['-C', String(t.controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'show']);
      return new RegExp(`^Target (\\d+): ${name.replaceAll('.', '\\.')}$`, 'm').exec(r.stdout)?.[1];
    };
    expect(await tidOf(agentA, targetA)).toBe(String(id.tid));
    expect(await tidOf(agentB, targetB)).toBe(String(id.tid));
  });
});
