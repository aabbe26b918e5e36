/**
 * LIO needs the kernel's target modules, which this test host lacks: targetcli is replaced by a
 * recorder (the command sequence is compared exactly) and configfs by a directory tree laid out
 * as the kernel lays it out.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeChapSecret, Secret, type ChapSecrets } from '../../../onprem-agent/iscsi/chap.js';
import { buildIscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { LioBackend } from '../../../onprem-agent/iscsi/lio-backend.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { reconcileExports } from '../../../onprem-agent/iscsi/reconcile.js';

const SHA = '5bc63c2c843ab342e5162cafa67769c39b6d78810b69569b00676725d82a6269';
const T = 'iqn.2026-11.org.example.site1:agent-a:img-5bc63c2c843ab342';
const N0 = initiatorIqnFor('x1000c0s0b0n0');
const CHAP: ChapSecrets = { policy: { mode: 'mutual', user: 'skyboot-site1', mutualUser: 'skyboot-site1-target' }, secret: new Secret('AbcdEfgh2345Jkmn'), mutualSecret: new Secret('ZyxwVuts9876Qrst') };

// Each node logs in with its own account, derived from the site key.
const N0_USER = 'skyboot-site1.x1000c0s0b0n0';
const N0_SECRET = nodeChapSecret(CHAP, 'x1000c0s0b0n0').reveal();

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skyboot-lio-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const desired = () => buildIscsiDesiredState({
  agentName: 'agent-a', siteDomain: 'site1.example.org',
  images: [{ imageId: 'img-1', imageName: 'compute', version: '1', status: 'READY', rootfsSha256: SHA, rootfsSize: 4096 }],
  nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'img-1', rootfsProvider: 'ISCSI' }],
  cachedPath: () => '/var/lib/skyboot/cache/sha256/5b/5bc63c2c',
  chap: CHAP.policy,
});

describe('LIO backend (targetcli recorded, configfs laid out by the test)', () => {
  it('issues the exact targetcli sequence for a new read-only export with ACL and mutual CHAP', async () => {
    const batches: string[][] = [];
    const backend = new LioBackend({ portals: ['10.1.0.5:3260'], chap: CHAP, configfsRoot: join(dir, 'empty'), runTargetcli: async (c) => void batches.push(c) });
    await reconcileExports({ backend, desired: desired(), dataDir: join(dir, 'data'), chap: CHAP });
    // The recorder never populates configfs, so set-chap finds no ACL yet: the node ACL gets its
    // CHAP when it is bound, as it would on a real target.
    expect(batches).toEqual([
      [
        '/backstores/fileio create name=skyboot-5bc63c2c843ab342 file_or_dev=/var/lib/skyboot/cache/sha256/5b/5bc63c2c write_back=false wwn=5bc63c2c-843a-b342-e516-2cafa67769c3',
        `/iscsi create ${T}`,
        `/iscsi/${T}/tpg1/portals delete 0.0.0.0 3260`,
        `/iscsi/${T}/tpg1/portals create 10.1.0.5 3260`,
        `/iscsi/${T}/tpg1/luns create /backstores/fileio/skyboot-5bc63c2c843ab342 lun=1 add_mapped_luns=false`,
        `/iscsi/${T}/tpg1 set attribute generate_node_acls=0 demo_mode_write_protect=1 authentication=0`,
        'saveconfig',
      ],
      [`/iscsi/${T}/tpg1 set attribute authentication=1`, 'saveconfig'],
      [
        `/iscsi/${T}/tpg1/acls create ${N0} add_mapped_luns=false`,
        `/iscsi/${T}/tpg1/acls/${N0} create mapped_lun=1 tpg_lun_or_backstore=lun1 write_protect=1`,
        `/iscsi/${T}/tpg1/acls/${N0} set auth userid=${N0_USER} password=${N0_SECRET} mutual_userid=skyboot-site1-target mutual_password=ZyxwVuts9876Qrst`,
        'saveconfig',
      ],
    ]);
  });

  it('reads an export back from configfs and then has nothing to change', async () => {
    const root = join(dir, 'target');
    const bs = join(root, 'core', 'fileio_0', 'skyboot-5bc63c2c843ab342');
    await mkdir(join(bs, 'wwn'), { recursive: true });
    await writeFile(join(bs, 'udev_path'), '/var/lib/skyboot/cache/sha256/5b/5bc63c2c\n');
    await writeFile(join(bs, 'wwn', 'vpd_unit_serial'), 'T10 VPD Unit Serial Number: 5bc63c2c-843a-b342-e516-2cafa67769c3\n');
    const tpg = join(root, 'iscsi', T, 'tpgt_1');
    await mkdir(join(tpg, 'lun', 'lun_1'), { recursive: true });
    await symlink(bs, join(tpg, 'lun', 'lun_1', '7f3a1c2b9d'));
    await mkdir(join(tpg, 'attrib'), { recursive: true });
    await writeFile(join(tpg, 'attrib', 'demo_mode_write_protect'), '1\n');
    const acl = join(tpg, 'acls', N0);
    await mkdir(join(acl, 'lun_1'), { recursive: true });
    await mkdir(join(acl, 'auth'), { recursive: true });
    await writeFile(join(acl, 'lun_1', 'write_protect'), '1\n');
    await writeFile(join(acl, 'auth', 'userid'), `${N0_USER}\n`);
    await writeFile(join(acl, 'auth', 'userid_mutual'), 'skyboot-site1-target\n');
    await writeFile(join(acl, 'info'), `InitiatorName: ${N0}\nInitiatorAlias:\nLIO Session ID: 3   ISID: 0x00023d000001  TSIH: 3  SessionType: Normal\n`);

    const batches: string[][] = [];
    const backend = new LioBackend({ portals: ['10.1.0.5:3260'], chap: CHAP, configfsRoot: root, runTargetcli: async (c) => void batches.push(c) });
    expect(await backend.listExports()).toEqual([{
      targetIqn: T,
      lun: { lun: 1, backingPath: '/var/lib/skyboot/cache/sha256/5b/5bc63c2c', readonly: true, scsiId: '5bc63c2c-843a-b342-e516-2cafa67769c3', serial: '5bc63c2c-843a-b342-e516-2cafa67769c3' },
      acl: [N0], sessions: [N0], chapUsers: [N0_USER], chapMutualUsers: ['skyboot-site1-target'],
    }]);
    const { plan } = await reconcileExports({ backend, desired: desired(), dataDir: join(dir, 'data'), chap: CHAP });
    expect(plan.steps).toEqual([]);
    expect(batches).toEqual([]);
    await expect(backend.removeExport(T)).rejects.toThrow(/has sessions/);
    await expect(backend.ensureExport({ targetIqn: T, lun: 1, rootfsSha256: SHA, rootfsPath: '/x' })).rejects.toThrow(/needs rebuilding but has sessions/);
    expect(batches).toEqual([]);
  });

  it('binds a node with a write-protected mapped LUN and its CHAP, and unbinds it', async () => {
    const batches: string[][] = [];
    const backend = new LioBackend({ portals: [], chap: CHAP, configfsRoot: join(dir, 'empty'), runTargetcli: async (c) => void batches.push(c) });
    await backend.bindInitiator(T, N0);
    await backend.unbindInitiator(T, N0);
    await backend.removeExport(T);
    expect(batches).toEqual([
      [
        `/iscsi/${T}/tpg1/acls create ${N0} add_mapped_luns=false`,
        `/iscsi/${T}/tpg1/acls/${N0} create mapped_lun=1 tpg_lun_or_backstore=lun1 write_protect=1`,
        `/iscsi/${T}/tpg1/acls/${N0} set auth userid=${N0_USER} password=${N0_SECRET} mutual_userid=skyboot-site1-target mutual_password=ZyxwVuts9876Qrst`,
        'saveconfig',
      ],
      [`/iscsi/${T}/tpg1/acls delete ${N0}`, 'saveconfig'],
      [`/iscsi delete ${T}`, '/backstores/fileio delete skyboot-5bc63c2c843ab342', 'saveconfig'],
    ]);
  });
});
