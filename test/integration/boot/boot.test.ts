import { bootTokenFromCmdline } from '../../../bootscript/bootToken.js';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { handler as images } from '../../../functions/images/handler.js';
import { handler as boot } from '../../../functions/boot/handler.js';
import { handler as orchestration } from '../../../functions/orchestration/handler.js';
import { componentKey, macKey, nidKey } from '../../../functions/inventory/keys.js';
import { agentOf, callerOf, pushImage, randomFile, startLocalImagesStack, type LocalImagesStack } from '../images/localStack.js';

const img = callerOf(images, 'images');
const call = callerOf(boot, 'boot');
const XN = 'x1000c0s0b0n0';
const MAC1 = 'aa:bb:cc:00:00:01';
const MAC2 = 'aa:bb:cc:00:00:02';
const AGENT = 'http://10.0.0.1:8080';

interface Resolved {
  matchedSelector: string;
  matchedKind: string;
  kernel: string;
  rootfs: string | null;
  candidates: string[];
  configuration: { id: string };
}

describe('boot configuration: selectors, precedence, READY images, boot script, cloud-init', () => {
  let stack: LocalImagesStack;
  type Pushed = { id: string; status: string; reason: string | null };
  let good: Pushed;
  let other: Pushed;
  let failed: Pushed;
  let files: Record<string, { path: string; size: number; sha256: string }>;

  async function putNode(xname: string, opts: { macs: string[]; nid?: number; groups?: string[]; role?: string; subRole?: string; arch?: string; site?: string }) {
    const { doc } = stack.aws.clients;
    const TableName = stack.aws.tableName;
    const site = opts.site ?? 'local';
    await doc.send(
      new PutCommand({
        TableName,
        Item: {
          ...componentKey(site, xname),
          entity: 'Component',
          xname,
          type: 'Node',
          state: 'ON',
          flag: 'OK',
          enabled: true,
          site,
          version: 1,
          // Every field the inventory writes (componentItem): reads decode the item and refuse one without them.
          createdAt: '2026-01-01T00:00:00.000Z',
          updatedAt: '2026-01-01T00:00:00.000Z',
          interfaces: opts.macs.map((mac) => ({ mac, ipAddresses: [], network: 'default' })),
          ...(opts.groups?.length ? { groups: new Set(opts.groups) } : {}),
          ...(opts.role ? { role: opts.role } : {}),
          ...(opts.subRole ? { subRole: opts.subRole } : {}),
          ...(opts.nid !== undefined ? { nid: opts.nid } : {}),
          ...(opts.arch ? { arch: opts.arch } : {}),
        },
      }),
    );
    for (const mac of opts.macs) await doc.send(new PutCommand({ TableName, Item: { ...macKey(site, mac), entity: 'MacClaim', mac, site, xname } }));
    if (opts.nid !== undefined) await doc.send(new PutCommand({ TableName, Item: { ...nidKey(site, opts.nid), entity: 'NidClaim', nid: opts.nid, site, xname } }));
  }

  beforeAll(async () => {
    stack = await startLocalImagesStack('boot');
    files = {
      KERNEL: randomFile(stack.dir, 'k', 32 * 1024),
      INITRD: randomFile(stack.dir, 'i', 64 * 1024),
      ROOTFS_SQUASHFS: randomFile(stack.dir, 'r', 128 * 1024),
    };
    good = await pushImage(stack, img, { name: 'rocky', version: '9.4', files });
    other = await pushImage(stack, img, { name: 'rocky', version: '9.5', files: { KERNEL: randomFile(stack.dir, 'k2', 1000), INITRD: files.INITRD! } });
    const bad = randomFile(stack.dir, 'bad', 2000);
    failed = await pushImage(stack, img, { name: 'broken', version: '1', files: { KERNEL: randomFile(stack.dir, 'k3', 2000) }, upload: { KERNEL: bad.path } });
    expect([good.status, other.status, failed.status]).toEqual(['READY', 'READY', 'FAILED']);
    await putNode(XN, { macs: [MAC1, MAC2], nid: 1, groups: ['compute', 'gpu'], role: 'COMPUTE', subRole: 'worker', arch: 'X86' });
  });
  afterAll(() => stack.dispose());

  const resolve = () => call<Resolved | null>('bootConfigurationFor', { xname: XN });
  const set = (selector: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    call<{ id: string; version: number }>('setBootConfiguration', { input: { selector, imageId: good.id, rootfsProvider: 'HTTP', ...extra } });

  it('resolves xname > MAC > NID > group > role+subRole > role > default, and falls back as each is removed', async () => {
    expect(await resolve()).toBeNull();
    const levels: [Record<string, unknown>, string][] = [
      [{ default: true, arch: 'X86' }, 'default:X86'],
      [{ roles: ['COMPUTE'] }, 'role:COMPUTE'],
      [{ roles: ['COMPUTE'], subRole: 'worker' }, 'role:COMPUTE/worker'],
      [{ groups: ['gpu'] }, 'group:gpu'],
      [{ nids: [1] }, 'nid:1'],
      [{ macs: [MAC2] }, `mac:${MAC2}`],
      [{ xnames: [XN] }, `xname:${XN}`],
    ];
    const ids: string[] = [];
    for (const [selector, expected] of levels) {
      ids.push((await set(selector, { kernelParameters: `level=${expected.split(':')[0]}` })).id);
      const r = (await resolve())!;
      expect(r.matchedSelector).toBe(expected);
      expect(r.kernel).toBe(files.KERNEL!.sha256);
      expect(r.rootfs).toBe(files.ROOTFS_SQUASHFS!.sha256);
    }
    expect((await resolve())!.candidates).toEqual(levels.map(([, e]) => e).reverse());
    for (let i = levels.length - 1; i > 0; i--) {
      await call('deleteBootConfiguration', { id: ids[i] });
      expect((await resolve())!.matchedSelector).toBe(levels[i - 1]![1]);
    }
    await call('deleteBootConfiguration', { id: ids[0] });
    expect(await resolve()).toBeNull();
  });

  it('a node in two groups with conflicting configurations: the smallest group label wins, unless priority says otherwise', async () => {
    const gpu = await set({ groups: ['gpu'] }, { imageId: other.id, rootfsProvider: null });
    const compute = await set({ groups: ['compute'] });
    let r = (await resolve())!;
    expect(r.matchedSelector).toBe('group:compute');
    expect(r.configuration.id).toBe(compute.id);
    // Same selector again: the same configuration, updated (version 2), not a second one.
    const raised = await set({ groups: ['gpu'] }, { imageId: other.id, rootfsProvider: null, priority: 10 });
    expect(raised).toMatchObject({ id: gpu.id, version: 2 });
    r = (await resolve())!;
    expect(r.matchedSelector).toBe('group:gpu');
    expect(r.kernel).not.toBe(files.KERNEL!.sha256);
    await call('deleteBootConfiguration', { id: gpu.id });
    await call('deleteBootConfiguration', { id: compute.id });
  });

  it('refuses FAILED and unknown images, overlapping selectors and injected kernel parameters, naming the reason', async () => {
    await expect(set({ xnames: [XN] }, { imageId: failed.id, rootfsProvider: null })).rejects.toThrow(
      new RegExp(`^input.imageId: image broken 1 \\(${failed.id}\\) is FAILED \\(KERNEL: sha256 mismatch: declared [0-9a-f]{64}, content hashes to [0-9a-f]{64}\\); only READY images can be booted$`),
    );
    await expect(set({ xnames: [XN] }, { imageId: 'nope' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(set({ xnames: [XN] }, { imageId: other.id, rootfsProvider: 'HTTP' })).rejects.toThrow(/HTTP needs an image with a ROOTFS_SQUASHFS/);
    await expect(set({ xnames: [XN] }, { kernelParameters: 'quiet\n#!ipxe\nshell' })).rejects.toThrow('input.kernelParameters: newline (U+000A) at position 6 is not allowed');
    await expect(set({ xnames: [XN] }, { kernelParameters: 'root=/dev/sda1' })).rejects.toThrow(/"root" at position 1 is reserved/);
    await expect(set({ default: true })).rejects.toThrow(/default needs an arch/);
    const one = await set({ xnames: [XN, 'x1000c0s0b0n1'] });
    await expect(set({ xnames: [XN] })).rejects.toThrow(`xname:${XN} already belongs to boot configuration ${one.id} in site local`);
    // In use: the image cannot be deleted; the error names the configuration.
    await expect(img('deleteImage', { id: good.id })).rejects.toThrow(`in use by boot configuration ${one.id}`);
    await call('deleteBootConfiguration', { id: one.id });
  });

  it('writeBootConfiguration PATCH: keeps what it does not name, pairs initrd with the stored kernel, honours expectedVersion', async () => {
    type Write = { configuration: { id: string; version: number; imageId: string | null; kernel: string; initrd: string | null; kernelParameters: string; priority: number }; warnings: unknown[] };
    const write = (mode: string, input: Record<string, unknown>) => call<Write>('writeBootConfiguration', { mode, input: { selector: { xnames: [XN] }, ...input } });
    await expect(write('PATCH', { kernelParameters: 'quiet' })).rejects.toThrow('input.imageId: give an imageId or an explicit kernel sha256');
    const k = files.KERNEL!.sha256;
    const created = await write('PATCH', { kernel: k, kernelParameters: 'quiet', priority: 4 });
    expect(created).toMatchObject({ configuration: { version: 1, imageId: null, kernel: k, initrd: null, kernelParameters: 'quiet', priority: 4 }, warnings: [] });
    const paired = await write('PATCH', { initrd: files.INITRD!.sha256 });
    expect(paired.configuration).toMatchObject({ version: 2, kernel: k, initrd: files.INITRD!.sha256, kernelParameters: 'quiet', priority: 4 });
    await expect(write('PATCH', { priority: 5, expectedVersion: 1 })).rejects.toMatchObject({ code: 'CONFLICT', message: `boot configuration ${created.configuration.id} is at version 2, not 1` });
    const imaged = await write('PATCH', { imageId: good.id, expectedVersion: 2 });
    expect(imaged.configuration).toMatchObject({ version: 3, imageId: good.id, kernelParameters: 'quiet', priority: 4 });
    await expect(write('PATCH', { initrd: files.INITRD!.sha256 })).rejects.toThrow(`input.initrd: the stored configuration boots image ${good.id}; an initrd goes with an explicit kernel: give kernel too`);
    await expect(call('writeBootConfiguration', { mode: 'MERGE', input: { selector: { xnames: [XN] } } })).rejects.toThrow('mode: "MERGE" is not PATCH or REPLACE');
    const replaced = await write('REPLACE', { imageId: good.id });
    expect(replaced.configuration).toMatchObject({ version: 4, kernelParameters: '', priority: 0 });
    await call('deleteBootConfiguration', { id: replaced.configuration.id });
  });

  it('renders the boot script for a MAC with BOOTIF, xname, nid, HTTP root and agent URLs; unknown MACs get the chain or the discovery image', async () => {
    const cfg = await set({ xnames: [XN] }, { kernelParameters: 'console=ttyS0,115200 ip=dhcp' });
    const script = await call<string>('bootScript', { mac: MAC1, agentBaseUrl: AGENT });
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!ipxe');
    expect(lines[1]).toBe(`# Skyboot boot script for ${XN} (mac ${MAC1}, matched xname:${XN})`);
    expect(lines).toContain(
      `kernel --name kernel ${AGENT}/artifacts/sha256/${files.KERNEL!.sha256} initrd=initrd BOOTIF=01-aa-bb-cc-00-00-01 xname=${XN} nid=1 ` +
        `root=live:${AGENT}/artifacts/sha256/${files.ROOTFS_SQUASHFS!.sha256} console=ttyS0,115200 ip=dhcp skyboot.token=${bootTokenFromCmdline(lines.find((l) => l.startsWith('kernel '))!) ?? 'missing'} || goto failed1`,
    );
    expect(lines).toContain(`initrd --name initrd ${AGENT}/artifacts/sha256/${files.INITRD!.sha256} || goto failed1`);

    const unknown = await call<string>('bootScript', { mac: 'de:ad:be:ef:00:01', agentBaseUrl: AGENT });
    expect(unknown).toMatch(/^chain --replace --autofree http:\/\/10\.0\.0\.1:8080\/boot\/v1\/bootscript\?mac=de:ad:be:ef:00:01&attempt=2 \|\| goto failed$/m);
    const disc = await call<{ id: string }>('setBootConfiguration', { input: { selector: { unknown: true, arch: 'X86' }, imageId: other.id, kernelParameters: 'skyboot.discovery=1' } });
    const discovery = await call<string>('bootScript', { mac: 'de:ad:be:ef:00:01', agentBaseUrl: AGENT });
    expect(discovery).toMatch(/^kernel --name kernel http:\/\/10\.0\.0\.1:8080\/artifacts\/sha256\/[0-9a-f]{64} initrd=initrd BOOTIF=01-de-ad-be-ef-00-01 skyboot.discovery=1 \|\| goto failed1$/m);
    await call('deleteBootConfiguration', { id: disc.id });
    // An agent sees its own site only.
    await expect(call('bootConfigurationFor', { xname: XN }, agentOf('elsewhere'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await call<Resolved>('bootConfigurationFor', { xname: XN }, agentOf('local'))).matchedSelector).toBe(`xname:${XN}`);
    await call('deleteBootConfiguration', { id: cfg.id });
    // Unreferenced again: deletable.
    await expect(img('deleteImage', { id: other.id })).resolves.toBe(true);
  });

  it('merges cloud-init node over groups: deep merge for meta-data/vendor-data, whole user-data', async () => {
    await call('setCloudInit', { input: { group: 'compute', metaData: { a: 1, nested: { x: 1, y: 'compute' }, list: [1, 2] }, userData: '#cloud-config\nfrom: compute\n' } });
    await call('setCloudInit', { input: { group: 'gpu', metaData: { nested: { y: 'gpu', g: true }, list: [9] }, userData: 'gpu', vendorData: { v: 1 } } });
    let merged = await call<{ metaData: unknown; userData: string; vendorData: unknown; sources: string[] }>('cloudInitFor', { xname: XN });
    expect(merged).toMatchObject({
      metaData: { a: 1, nested: { x: 1, y: 'compute', g: true }, list: [1, 2] },
      userData: '#cloud-config\nfrom: compute\n',
      vendorData: { v: 1 },
      sources: ['group:gpu', 'group:compute'],
    });
    await call('setCloudInit', { input: { xname: XN, metaData: { nested: { z: 3 }, 'local-hostname': 'n0' }, userData: '#!/bin/sh\necho node\n' } });
    merged = await call('cloudInitFor', { xname: XN });
    expect(merged.metaData).toEqual({ a: 1, nested: { x: 1, y: 'compute', g: true, z: 3 }, list: [1, 2], 'local-hostname': 'n0' });
    expect(merged.userData).toBe('#!/bin/sh\necho node\n');
    expect(merged.sources).toEqual(['group:gpu', 'group:compute', `node:${XN}`]);
    await expect(call('setCloudInit', { input: { xname: XN, group: 'gpu' } })).rejects.toThrow(/exactly one of xname and group/);
  });

  it('refuses to delete an image while a node is logged in to its root filesystem over iSCSI, naming the node', async () => {
    const orch = callerOf(orchestration, 'orchestration');
    const session = { targetIqn: 'iqn.2026-11.skyboot.local:agent-1:img-x', lun: 1, initiatorIqn: `iqn.2026-11.io.skyboot:node:${XN}`, xname: XN, rootfsSha256: files.ROOTFS_SQUASHFS!.sha256 };
    await orch('reportIscsiSessions', { agent: 'agent-1', sessions: [session] }, agentOf('local'));
    await expect(img('deleteImage', { id: good.id })).rejects.toThrow(`in use by iscsi session ${XN} on local/agent-1`);
    await orch('reportIscsiSessions', { agent: 'agent-1', sessions: [] }, agentOf('local'));
    await expect(img('deleteImage', { id: good.id })).resolves.toBe(true);
  });
});
