/** `skyboot-agent export reconcile|list` as a user runs them, against a private tgtd. */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredFile } from '../../../onprem-agent/iscsi/commands.js';
import type { ActualExport } from '../../../onprem-agent/iscsi/backend.js';
import { CHAP_FILE } from '../../../onprem-agent/iscsi/chap.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { buildSquashfs, iscsiUrl, run, startTgtd, type Tgtd } from './tgtd.js';

let dir: string;
let tgtd: Tgtd;
let desiredPath: string;

const agent = (...args: string[]): ReturnType<typeof run> =>
  run(process.execPath, ['--import', 'tsx', 'onprem-agent/cli/main.ts', ...args, '--tgt-control-port', String(tgtd.controlPort)]);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skyboot-iscsi-cli-'));
  const image = await buildSquashfs(dir, 'cli', 1);
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
    expect(exports[0]).toMatchObject({ acl: [initiatorIqnFor('x1000c0s0b0n0')], chapUsers: [user], sessions: [] });
    const login = await run('iscsi-inq', ['-i', initiatorIqnFor('x1000c0s0b0n0'),
      iscsiUrl({ portal: tgtd.portal, targetIqn: exports[0]!.targetIqn, initiatorIqn: initiatorIqnFor('x1000c0s0b0n0'), user, secret })]);
    expect(login.stderr).toBe('');
  });

  it('rejects an unknown backend and names it', async () => {
    const r = await agent('export', 'list', '--iscsi', 'iet');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('iet');
  });
});
