/** `skyboot-agent export reconcile|list` as a user runs them, against a private tgtd. */
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredFile } from '../../../onprem-agent/iscsi/commands.js';
import type { ActualExport } from '../../../onprem-agent/iscsi/backend.js';
import { CHAP_FILE, nodeChapAccount, Secret } from '../../../onprem-agent/iscsi/chap.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { saveSnapshot } from '../../../onprem-agent/sync/snapshotStore.js';
import type { SiteSnapshot } from '../../../schema/siteSnapshot.js';
import { buildSquashfs, iscsiUrl, run, startTgtd, type Tgtd } from './tgtd.js';

let dir: string;
let tgtd: Tgtd;
let desiredPath: string;
let image: { path: string; sha256: string; size: number };

const agent = (...args: string[]): ReturnType<typeof run> =>
  run(process.execPath, ['--import', 'tsx', 'onprem-agent/cli/main.ts', ...args, '--iscsi', 'tgt', '--tgt-control-port', String(tgtd.controlPort)]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skyboot-iscsi-cli-'));
  image = await buildSquashfs(dir, 'cli', 1);
  tgtd = await startTgtd();
  const file: DesiredFile = {
    agentName: 'agent-a',
    siteDomain: 'site1.example.org',
    images: [
      { imageId: 'img-1', imageName: 'compute', version: '1', status: 'READY', rootfsSha256: image.sha256, rootfsSize: image.size },
      { imageId: 'img-2', imageName: 'gpu', version: '1', status: 'UPLOADING', rootfsSha256: 'b'.repeat(64), rootfsSize: 1 },
    ],
    nodes: [
      { xname: 'x1000c0s0b0n0', imageId: 'img-1', rootfsProvider: 'ISCSI' },
      { xname: 'x1000c0s0b0n1', imageId: 'img-2', rootfsProvider: 'ISCSI' },
      { xname: 'x1000c0s0b0n2', imageId: 'img-1', rootfsProvider: 'HTTP' },
    ],
    cachedPaths: { [image.sha256]: image.path },
    chap: 'one-way',
  };
  desiredPath = join(dir, 'desired.json');
  await writeFile(desiredPath, JSON.stringify(file));
});

afterAll(async () => {
  await tgtd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('skyboot-agent export', () => {
  it('reconcile --dry-run prints the plan and changes nothing', async () => {
    const r = await agent('export', 'reconcile', '--dry-run', '--desired', desiredPath, '--data-dir', join(dir, 'data'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^would ensure-export iqn\.2026-11\.org\.example\.site1:agent-a:img-[0-9a-f]{16}$/m);
    expect(r.stdout).toContain('would set-chap');
    expect(r.stdout).toContain(`would bind-initiator`);
    expect(r.stdout).toContain('skipped img-2: image status is UPLOADING, not READY');
    const list = await agent('export', 'list', '--json');
    expect(JSON.parse(list.stdout)).toEqual([]);
  });

  it('reconcile applies, keeps the CHAP secret 0600 and out of its output, and a second run is in sync', async () => {
    const first = await agent('export', 'reconcile', '--desired', desiredPath, '--data-dir', join(dir, 'data'), '--json');
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout) as { applied: number; steps: unknown[] };
    expect(out.applied).toBe(3);
    const chapFile = join(dir, 'data', CHAP_FILE);
    expect((await stat(chapFile)).mode & 0o777).toBe(0o600);
    const { secret, user } = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(chapFile, 'utf8'))) as { secret: string; user: string };
    expect(first.stdout + first.stderr).not.toContain(secret);

    const again = await agent('export', 'reconcile', '--desired', desiredPath, '--data-dir', join(dir, 'data'));
    expect(again.stdout.trim().split('\n')).toEqual(['skipped img-2: image status is UPLOADING, not READY', 'in sync']);

    const list = await agent('export', 'list', '--json');
    const exports = JSON.parse(list.stdout) as ActualExport[];
    expect(exports).toHaveLength(1);
    // The node logs in with its own account, derived from the site key in the file.
    const own = nodeChapAccount({ policy: { mode: 'one-way', user }, secret: new Secret(secret) }, 'x1000c0s0b0n0');
    expect(exports[0]).toMatchObject({ acl: [initiatorIqnFor('x1000c0s0b0n0')], chapUsers: [own.user], sessions: [] });
    const login = await run('iscsi-inq', ['-i', initiatorIqnFor('x1000c0s0b0n0'),
      iscsiUrl({ portal: tgtd.portal, targetIqn: exports[0]!.targetIqn, initiatorIqn: initiatorIqnFor('x1000c0s0b0n0'), user: own.user, secret: own.secret.reveal() })]);
    expect(login.stderr).toBe('');
  });

  it('reconciles from the stored snapshot and the verified cache in the data dir', async () => {
    const dataDir = join(dir, 'snapshot-agent');
    await mkdir(join(dataDir, 'cache', 'sha256'), { recursive: true });
    await copyFile(image.path, join(dataDir, 'cache', 'sha256', image.sha256));
    const boot = { configId: 'c1', matchedSelector: 'role:Compute', imageId: 'img-1', kernel: 'k'.repeat(64), initrd: null, rootfs: image.sha256, kernelParameters: '', rootfsProvider: 'ISCSI' as const };
    const node = (xname: string) => ({ xname, nid: null, role: 'Compute', subRole: null, arch: 'X86' as const, groups: [], interfaces: [], boot, cloudInit: null });
    const snapshot: SiteSnapshot = {
      site: 'site1', siteDomain: 'site1.example.org', revision: 7, unchanged: false, contentHash: 'h', generatedAt: new Date().toISOString(),
      nodes: [node('x1000c0s0b0n0'), node('x1000c0s0b0n1')],
      discovery: [],
      artifacts: [{ sha256: image.sha256, size: image.size, type: 'rootfs', status: 'READY', url: null, urlExpiresAt: null }],
      images: [{ id: 'img-1', name: 'compute', version: '1', arch: 'X86', status: 'READY' }],
    };
    await saveSnapshot(dataDir, snapshot);
    const r = await agent('export', 'reconcile', '--data-dir', dataDir, '--agent-name', 'agent-s', '--json');
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { applied: number; skipped: unknown[] };
    expect(out).toMatchObject({ applied: 3, skipped: [] });
    const list = JSON.parse((await agent('export', 'list', '--json')).stdout) as ActualExport[];
    const mine = list.find((e) => e.targetIqn.startsWith('iqn.2026-11.org.example.site1:agent-s:img-'))!;
    expect(mine.acl.sort()).toEqual([initiatorIqnFor('x1000c0s0b0n0'), initiatorIqnFor('x1000c0s0b0n1')]);
    expect(mine.lun!.backingPath).toBe(join(dataDir, 'cache', 'sha256', image.sha256));
  });

  it('rejects an unknown backend and names it', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', 'onprem-agent/cli/main.ts', 'export', 'list', '--iscsi', 'iet']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('iscsi: "iet" is not one of tgt, lio, off');
  });
});
