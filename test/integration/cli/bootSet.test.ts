import { graphqlClient, type Gql } from '../../../cli/client.js';
import { pushImage } from '../../../cli/push.js';
import { runCli } from '../../../cli/program.js';
import type { TestGateway } from '../../support/gateway.js';
import { randomFile, startImagesGateway, type ImagesGateway } from '../images/localStack.js';

/**
 * `skyboot boot set` against the gateway: patch by default, --replace, --clear-params, concurrent
 * patches, warnings for targets the inventory does not hold, refusal of xnames that cannot boot,
 * and --image by name and name:version.
 */
interface Config {
  id: string;
  imageId: string | null;
  kernelParameters: string;
  rootfsProvider: string | null;
  priority: number;
  version: number;
  selector: { xnames: string[]; groups: string[] };
}

const N0 = 'x3000c0s1b0n0';
const N1 = 'x3000c0s2b0n0';

describe('skyboot boot set: patch, replace, concurrent writers, target checks, images by name', () => {
  let stack: ImagesGateway;
  let gw: TestGateway;
  let dir: string;
  let gql: Gql;
  const images: Record<string, string> = {};

  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql, out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    return { code, out, err };
  }
  async function config(id: string): Promise<Config> {
    const show = await cli(['boot', 'show', '--id', id, '--json']);
    expect(show.err).toEqual([]);
    return JSON.parse(show.out[0]!) as Config;
  }
  const configIds = async () => {
    const list = await cli(['boot', 'list', '--json']);
    return (JSON.parse(list.out[0]!) as Config[]).map((c) => c.id).sort();
  };
  const push = async (name: string, version: string, opts: { rootfs?: boolean; gql?: Gql } = {}) => {
    const files = [
      { type: 'KERNEL' as const, path: randomFile(dir, `${name}-${version}-k`, 4096).path },
      { type: 'INITRD' as const, path: randomFile(dir, `${name}-${version}-i`, 8192).path },
      ...(opts.rootfs === false ? [] : [{ type: 'ROOTFS_SQUASHFS' as const, path: randomFile(dir, `${name}-${version}-r`, 16384).path }]),
    ];
    return pushImage(opts.gql ?? gql, { name, version, arch: 'x86_64', files, labels: [], progress: false, log: () => undefined, concurrency: 2 });
  };

  beforeAll(async () => {
    stack = await startImagesGateway('bootset');
    ({ gw, dir } = stack);
    gql = graphqlClient({ url: `${gw.url}/graphql`, token: gw.tokens.admin });
    // Pushed in this order, so rocky 9.6 is the newest rocky; it fails verification, so 9.5 is the newest READY one.
    images['rocky:9.4'] = (await push('rocky', '9.4')).id;
    images['rocky:9.5'] = (await push('rocky', '9.5')).id;
    const lying: Gql = (query, variables) => {
      const input = (variables as { input?: { artifacts?: { sha256: string }[] } } | undefined)?.input;
      if (input?.artifacts) input.artifacts[0]!.sha256 = 'c'.repeat(64);
      return gql(query, variables);
    };
    const failed = await push('rocky', '9.6', { gql: lying }).catch((err: Error) => err);
    expect(String(failed)).toMatch(/FAILED verification/);
    images['alma:1'] = (await push('alma', '1', { rootfs: false })).id;
    const up = await gw.gql(`mutation { upsertComponents(input: [
      { xname: "${N0}", role: COMPUTE, nid: 7, arch: X86, interfaces: [{ mac: "02:00:00:00:01:07" }] },
      { xname: "${N1}", role: COMPUTE, nid: 8, arch: X86, interfaces: [{ mac: "02:00:00:00:01:08" }] }]) { errors { message } } }`);
    expect(up.errors).toBeUndefined();
    for (const label of ['gpu', 'empty']) expect((await gw.gql(`mutation { createGroup(input: { label: "${label}" }) { label } }`)).errors).toBeUndefined();
    expect((await gw.gql(`mutation { addGroupMembers(label: "gpu", xnames: ["${N1}"]) { changed } }`)).errors).toBeUndefined();
  }, 120_000);
  afterAll(() => stack.dispose());

  /** Each case: `boot set` runs, in order, for one selector; the last one's stored configuration is checked. */
  const cases: { name: string; selector: string[]; runs: (img: typeof images) => string[][]; stored: (img: typeof images) => Partial<Config> }[] = [
    {
      name: 'a patch keeps the kernel parameters and rootfs provider it does not name',
      selector: ['--xname', N0],
      runs: () => [['--image', 'rocky:9.4', '--params', 'console=ttyS0 ip=dhcp', '--rootfs', 'http', '--priority', '3'], ['--image', 'rocky:9.5']],
      stored: (img) => ({ imageId: img['rocky:9.5'], kernelParameters: 'console=ttyS0 ip=dhcp', rootfsProvider: 'HTTP', priority: 3, version: 2 }),
    },
    {
      name: '--replace drops what it does not name',
      selector: ['--xname', N0],
      runs: () => [['--image', 'rocky:9.4', '--replace']],
      stored: (img) => ({ imageId: img['rocky:9.4'], kernelParameters: '', rootfsProvider: null, priority: 0, version: 3 }),
    },
    {
      name: '--clear-params clears the kernel parameters and keeps the rest',
      selector: ['--default', '--arch', 'x86_64'],
      runs: () => [['--image', 'rocky:9.4', '--params', 'quiet', '--rootfs', 'iscsi'], ['--clear-params']],
      stored: (img) => ({ imageId: img['rocky:9.4'], kernelParameters: '', rootfsProvider: 'ISCSI', version: 2 }),
    },
    {
      name: '--image NAME is the newest READY image of that name (a newer FAILED one is passed over)',
      selector: ['--xname', N1],
      runs: () => [['--image', 'rocky']],
      stored: (img) => ({ imageId: img['rocky:9.5'] }),
    },
    {
      name: '--image NAME:VERSION is that version, and an id is taken as it is',
      selector: ['--nid', '8'],
      runs: (img) => [['--image', 'rocky:9.4'], ['--image', img['alma:1']!]],
      stored: (img) => ({ imageId: img['alma:1'], version: 2 }),
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    let id = '';
    for (const args of c.runs(images)) {
      const r = await cli(['boot', 'set', ...c.selector, ...args]);
      expect({ code: r.code, warnings: r.err.filter((l) => l.startsWith('warning:')) }).toEqual({ code: 0, warnings: [] });
      id = r.out[0]!;
    }
    expect(await config(id)).toMatchObject(c.stored(images));
  });

  it('--clear-params with --params is a usage error', async () => {
    const r = await cli(['boot', 'set', '--xname', N0, '--clear-params', '--params', 'quiet']);
    expect(r).toMatchObject({ code: 2, err: ['skyboot: --clear-params and --params cannot be combined: one clears the kernel parameters, the other sets them'] });
  });

  it('concurrent patches of different fields all survive', async () => {
    const first = await cli(['boot', 'set', '--group', 'gpu', '--image', 'rocky:9.4']);
    expect(first.code).toBe(0);
    const id = first.out[0]!;
    for (let round = 1; round <= 3; round++) {
      // Four writers at once, each patching a field of its own: without a merge under the version check, three would be lost.
      const results = await Promise.all([
        cli(['boot', 'set', '--group', 'gpu', '--params', `round=${round}`]),
        cli(['boot', 'set', '--group', 'gpu', '--priority', String(10 + round)]),
        cli(['boot', 'set', '--group', 'gpu', '--rootfs', round % 2 ? 'http' : 'iscsi']),
        cli(['boot', 'set', '--group', 'gpu', '--image', round % 2 ? 'rocky:9.5' : 'rocky:9.4']),
      ]);
      expect(results.map((r) => ({ code: r.code, err: r.err.filter((l) => !l.startsWith('boot configuration ')) }))).toEqual(Array(4).fill({ code: 0, err: [] }));
      expect(await config(id)).toMatchObject({
        kernelParameters: `round=${round}`,
        priority: 10 + round,
        rootfsProvider: round % 2 ? 'HTTP' : 'ISCSI',
        imageId: images[round % 2 ? 'rocky:9.5' : 'rocky:9.4'],
        version: 1 + 4 * round,
      });
    }
  }, 60_000);

  it('warns on stderr (exit 0) about targets no node holds, and stores the configuration', async () => {
    const r = await cli(['boot', 'set', '--xname', 'x9999c0s0b0n0', '--xname', N0.replace('s1', 's9'), '--nid', '77', '--group', 'empty', '--group', 'nosuch', '--mac', '02:00:00:00:09:99', '--image', 'rocky']);
    expect(r.code).toBe(0);
    const tail = '(stored anyway: it applies once the inventory lists it)';
    expect(r.err.filter((l) => l.startsWith('warning:')).sort()).toEqual(
      [
        `warning: --xname x9999c0s0b0n0: no node x9999c0s0b0n0 in site local's inventory ${tail}`,
        `warning: --xname x3000c0s9b0n0: no node x3000c0s9b0n0 in site local's inventory ${tail}`,
        `warning: --nid 77: no node of site local has nid 77 ${tail}`,
        `warning: --mac 02:00:00:00:09:99: no node of site local has this MAC ${tail}`,
        `warning: --group empty: group empty has no members in site local ${tail}`,
        `warning: --group nosuch: no group nosuch ${tail}`,
      ].sort(),
    );
    expect(await config(r.out[0]!)).toMatchObject({ selector: { xnames: ['x3000c0s9b0n0', 'x9999c0s0b0n0'], groups: ['empty', 'nosuch'] }, imageId: images['rocky:9.5'] });
    // Targets the inventory holds raise no warning (the group gpu has a member, N0 and nid 7 exist).
    const known = await cli(['boot', 'set', '--xname', N0, '--image', 'rocky', '--rootfs', 'http']);
    expect(known.err.filter((l) => l.startsWith('warning:'))).toEqual([]);
  });

  const refusals: [string, string[], RegExp | string][] = [
    ['a NodeBMC xname', ['--xname', 'x1000c0s0b0', '--image', 'rocky'], 'skyboot: BAD_USER_INPUT: input.selector.xnames: "x1000c0s0b0" is a NodeBMC xname, not a Node: only nodes (x<cabinet>c<chassis>s<slot>b<bmc>n<node>, e.g. x1000c0s0b0n0) boot'],
    ['a chassis xname beside a node', ['--xname', N0, '--xname', 'x1000c0', '--params', 'quiet'], /^skyboot: BAD_USER_INPUT: input\.selector\.xnames: "x1000c0" is a Chassis xname, not a Node/],
    ['an unknown image name', ['--xname', 'x1000c0s0b0n9', '--image', 'nosuch'], 'skyboot: --image nosuch: no READY image named "nosuch"'],
    ['an unknown version', ['--xname', 'x1000c0s0b0n9', '--image', 'rocky:9.9'], 'skyboot: --image rocky:9.9: no image "rocky" with version "9.9"'],
    ['a name with no READY image of the arch', ['--default', '--arch', 'aarch64', '--image', 'rocky'], 'skyboot: --image rocky: no READY image named "rocky" for ARM'],
    ['a malformed image name', ['--xname', 'x1000c0s0b0n9', '--image', 'rocky/9'], /^skyboot: --image rocky\/9: BAD_USER_INPUT: name: "rocky\/9" must be 1–128 characters/],
    ['a stored rootfs provider the new image cannot serve', ['--xname', N0, '--image', 'alma:1'], 'skyboot: BAD_USER_INPUT: input.rootfsProvider: the stored HTTP needs an image with a ROOTFS_SQUASHFS artifact and the new one has none; write in REPLACE mode to drop it'],
    ['a NID that is not a number', ['--nid', 'seven', '--image', 'rocky'], 'skyboot: --nid: "seven" is not a non-negative integer'],
    ['an unknown rootfs provider', ['--xname', N0, '--rootfs', 'nfs'], 'skyboot: --rootfs: "nfs" is not http or iscsi'],
  ];

  it.each(refusals)('refuses %s with a clear error, a non-zero exit and nothing stored', async (_name, args, message) => {
    // N0's configuration exists (HTTP rootfs from the warning test); everything else names a selector with none.
    const before = await configIds();
    const n0 = before.length ? await cli(['boot', 'show', '--xname', N0, '--json']) : undefined;
    const r = await cli(['boot', 'set', ...args]);
    expect(r.code).toBeGreaterThan(0);
    expect(r.err).toHaveLength(1);
    if (typeof message === 'string') expect(r.err[0]).toBe(message);
    else expect(r.err[0]).toMatch(message);
    expect(await configIds()).toEqual(before);
    if (n0) expect((await cli(['boot', 'show', '--xname', N0, '--json'])).out).toEqual(n0.out);
  });
});
