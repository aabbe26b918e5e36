import { spawn } from 'node:child_process';
import { graphqlClient } from '../../../cli/client.js';
import { pushImage } from '../../../cli/push.js';
import { runCli } from '../../../cli/program.js';
import type { TestGateway } from '../../support/gateway.js';
import { randomFile, startImagesGateway, type ImagesGateway } from '../images/localStack.js';

const MiB = 1024 * 1024;

describe('skyboot CLI against the gateway (s3rver events delivered to the finalizer)', () => {
  let stack: ImagesGateway;
  let gw: TestGateway;
  let dir: string;
  let url: string;

  beforeAll(async () => {
    stack = await startImagesGateway('cli');
    ({ gw, dir } = stack);
    url = `${gw.url}/graphql`;
  });
  afterAll(() => stack.dispose());

  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql: graphqlClient({ url, token: gw.tokens.admin }), out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    return { code, out, err };
  }

  it('npx skyboot image push --json (the real binary) uploads, waits for READY and prints the image', async () => {
    const k = randomFile(dir, 'vmlinuz', 40 * 1024);
    const i = randomFile(dir, 'initrd.img', 80 * 1024);
    const r = randomFile(dir, 'rootfs.squashfs', 3 * MiB);
    const child = spawn(process.execPath, ['bin/skyboot.js', 'image', 'push', '--name', 'rocky', '--version', '9.4', '--arch', 'x86_64', '--kernel', k.path, '--initrd', i.path, '--rootfs', r.path, '--label', 'os=rocky', '--json'], {
      cwd: process.cwd(), // Jest runs from the repository root
      env: { ...process.env, SKYBOOT_URL: url, SKYBOOT_TOKEN: gw.tokens.admin, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((res) => child.on('exit', res));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout) as { id: string; status: string; arch: string; partsUploaded: number; artifacts: { sha256: string; status: string }[] };
    expect(result).toMatchObject({ status: 'READY', arch: 'X86', partsUploaded: 3, resumed: false });
    expect(result.artifacts.map((a) => a.sha256)).toEqual([k.sha256, i.sha256, r.sha256]);

    const list = await cli(['image', 'list', '--label', 'os=rocky']);
    expect(list.code).toBe(0);
    expect(list.out[0]).toMatch(/^ID\s+NAME\s+VERSION\s+ARCH\s+STATUS\s+SIZE\s+LABELS$/);
    expect(list.out[1]).toMatch(new RegExp(`^${result.id}\\s+rocky\\s+9\\.4\\s+X86\\s+READY\\s+3\\.1 MiB\\s+os=rocky$`));
  }, 120_000);

  it('an interrupted push, re-run, uploads only the missing parts and says how many it skipped', async () => {
    const k = randomFile(dir, 'k2', 4096);
    const r = randomFile(dir, 'r2', 17 * MiB); // 3 parts
    const abort = new AbortController();
    let parts = 0;
    const opts = { name: 'resume', version: '1', arch: 'aarch64', labels: [], progress: false, log: () => undefined, concurrency: 1 };
    // Killed after the kernel's part and the rootfs's first part.
    await expect(
      pushImage(graphqlClient({ url, token: gw.tokens.admin }), {
        ...opts,
        files: [{ type: 'KERNEL', path: k.path }, { type: 'ROOTFS_SQUASHFS', path: r.path }],
        signal: abort.signal,
        onPart: () => ++parts === 2 && abort.abort(),
      }),
    ).rejects.toThrow(/abort/i);
    const again = await cli(['image', 'push', '--name', 'resume', '--version', '1', '--arch', 'aarch64', '--kernel', k.path, '--rootfs', r.path, '--json']);
    expect(again.err.join('\n')).toMatch(/resuming image \S+: 1 of 3 parts already uploaded, skipping them/);
    expect(again.err.join('\n')).toMatch(/1 artifact\(s\) already stored with the same sha256/);
    const result = JSON.parse(again.out[0]!) as { status: string; arch: string; resumed: boolean; partsUploaded: number; partsSkipped: number };
    expect(result).toMatchObject({ status: 'READY', arch: 'ARM', resumed: true, partsUploaded: 2, partsSkipped: 1 });
  });

  it('a push whose bytes differ from the declared sha256 ends FAILED with the reason and exit code 1', async () => {
    const k = randomFile(dir, 'k3', 5000);
    const real = graphqlClient({ url, token: gw.tokens.admin });
    // Corrupt the declaration on the way out, as if the file changed between hashing and upload.
    const lying: typeof real = (query, variables) => {
      const input = (variables as { input?: { artifacts?: { sha256: string }[] } } | undefined)?.input;
      if (input?.artifacts) input.artifacts[0]!.sha256 = 'b'.repeat(64);
      return real(query, variables);
    };
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', 'image', 'push', '--name', 'corrupt', '--version', '1', '--arch', 'x86_64', '--kernel', k.path, '--json'], { gql: lying, out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    expect(code).toBe(1);
    expect(err.at(-1)).toMatch(new RegExp(`^skyboot: image \\S+ FAILED verification: KERNEL: sha256 mismatch: declared ${'b'.repeat(64)}, content hashes to ${k.sha256}$`));
    expect(JSON.parse(out[0]!)).toMatchObject({ status: 'FAILED', artifacts: [{ type: 'KERNEL', status: 'FAILED' }] });
  });

  it('boot set / show / list / script / delete, and image delete refused while in use', async () => {
    const { out } = await cli(['image', 'list', '--name', 'rocky', '--json']);
    const image = (JSON.parse(out[0]!) as { id: string }[])[0]!;
    const up = await gw.gql(`mutation { upsertComponents(input: [{ xname: "x3000c0s1b0n0", role: COMPUTE, nid: 7, arch: X86, interfaces: [{ mac: "02:00:00:00:00:07" }] }]) { errors { message } } }`);
    expect(up.errors).toBeUndefined();

    const set = await cli(['boot', 'set', '--role', 'compute', '--image', image.id, '--params', 'console=ttyS0 ip=dhcp', '--rootfs', 'http']);
    expect(set.code).toBe(0);
    const id = set.out[0]!;
    const show = await cli(['boot', 'show', '--xname', 'x3000c0s1b0n0']);
    expect(show.out[0]).toBe(`x3000c0s1b0n0: ${id} (matched role:COMPUTE; candidates role:COMPUTE)`);
    const script = await cli(['boot', 'script', '--xname', 'x3000c0s1b0n0', '--agent-url', 'http://10.9.0.1:8080']);
    expect(script.out.join('\n')).toMatch(/^kernel --name kernel http:\/\/10\.9\.0\.1:8080\/artifacts\/sha256\/[0-9a-f]{64} initrd=initrd BOOTIF=01-02-00-00-00-00-07 xname=x3000c0s1b0n0 nid=7 root=live:\S+ console=ttyS0 ip=dhcp skyboot\.token=[0-9a-f]{20} \|\| goto failed1$/m);
    const list = await cli(['boot', 'list']);
    expect(list.err).toEqual([]);
    expect(list.out[1]).toMatch(new RegExp(`^${id}\\s+roles=COMPUTE\\s+${image.id}\\s+HTTP\\s+0$`));

    const refused = await cli(['image', 'delete', image.id]);
    expect(refused.code).toBe(1);
    expect(refused.err[0]).toBe(`skyboot: CONFLICT: image rocky 9.4 (${image.id}) is in use by boot configuration ${id}; change or remove it first`);
    const bad = await cli(['boot', 'set', '--xname', 'x3000c0s1b0n0', '--image', image.id, '--params', 'quiet ${next-server}']);
    expect(bad.err[0]).toBe('skyboot: BAD_USER_INPUT: input.kernelParameters: "${" at position 7 is not allowed: iPXE expands ${…} settings on every line');
    expect((await cli(['boot', 'delete', id])).code).toBe(0);
    expect((await cli(['image', 'delete', image.id])).code).toBe(0);
    expect((await cli(['image', 'show', image.id])).err[0]).toBe(`skyboot: image ${image.id} not found`);
  });
});
