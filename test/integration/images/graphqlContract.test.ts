/**
 * The GraphQL contract, called exactly as written there, through the real gateway
 * (auth, scalars, routing) with s3rver events delivered to the finalizer.
 */
import { uploadArtifact, type ArtifactUploadPlan } from '../../../cli/upload.js';
import type { TestGateway } from '../../support/gateway.js';
import { randomFile, startImagesGateway, type ImagesGateway } from './localStack.js';

describe('images and boot GraphQL contract through the gateway', () => {
  let stack: ImagesGateway;
  let gw: TestGateway;
  let dir: string;

  beforeAll(async () => {
    stack = await startImagesGateway('contract');
    ({ gw, dir } = stack);
  });
  afterAll(() => stack.dispose());

  it('createImage → parts → completeArtifactUpload → READY → setBootConfiguration → bootConfigurationFor / bootScript', async () => {
    const k = randomFile(dir, 'k', 10_000);
    const i = randomFile(dir, 'i', 20_000);
    const r = randomFile(dir, 'r', 30_000);
    const created = await gw.gql<{ createImage: { image: { id: string; status: string }; uploads: (ArtifactUploadPlan & { type: string })[] } }>(
      `mutation($k: String!, $i: String!, $r: String!, $ks: Float!, $is: Float!, $rs: Float!) {
        createImage(input: { name: "contract", version: "1", arch: X86, labels: [{ key: "tier", value: "gold" }],
          artifacts: [{ type: KERNEL, size: $ks, sha256: $k }, { type: INITRD, size: $is, sha256: $i }, { type: ROOTFS_SQUASHFS, size: $rs, sha256: $r }] }) {
          image { id status } uploads { type uploadId partSize parts { partNumber url } sha256 partCount uploadedParts { partNumber etag size } } } }`,
      { k: k.sha256, i: i.sha256, r: r.sha256, ks: k.size, is: i.size, rs: r.size },
    );
    expect(created.errors).toBeUndefined();
    const { image, uploads } = created.data!.createImage;
    expect(image.status).toBe('UPLOADING');
    const files: Record<string, string> = { KERNEL: k.path, INITRD: i.path, ROOTFS_SQUASHFS: r.path };
    for (const u of uploads) {
      const parts = await uploadArtifact(files[u.type]!, u);
      const done = await gw.gql(`mutation($id: ID!, $t: ArtifactType!, $u: String!, $p: [CompletedPartInput!]!) { completeArtifactUpload(imageId: $id, type: $t, uploadId: $u, parts: $p) { id status } }`, {
        id: image.id,
        t: u.type,
        u: u.uploadId,
        p: parts,
      });
      expect(done.errors).toBeUndefined();
    }
    await stack.delivery.idle();
    const got = await gw.gql<{ image: { status: string; artifacts: { type: string; size: number; sha256: string; status: string }[] } }>(`query($id: ID!) { image(id: $id) { status artifacts { type size sha256 status } } }`, { id: image.id });
    expect(got.data!.image).toEqual({
      status: 'READY',
      artifacts: [
        { type: 'KERNEL', size: k.size, sha256: k.sha256, status: 'READY' },
        { type: 'INITRD', size: i.size, sha256: i.sha256, status: 'READY' },
        { type: 'ROOTFS_SQUASHFS', size: r.size, sha256: r.sha256, status: 'READY' },
      ],
    });
    const listed = await gw.gql<{ images: { edges: { node: { id: string } }[] } }>(`{ images(filter: { name: "contract", arch: X86, label: { key: "tier", value: "gold" }, status: READY }, first: 10) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`);
    expect(listed.data!.images.edges.map((e) => e.node.id)).toEqual([image.id]);

    const node = await gw.gql(`mutation { upsertComponents(input: [{ xname: "x9000c0s0b0n0", nid: 90, arch: X86, interfaces: [{ mac: "0A-00-00-00-00-90" }] }]) { errors { message } } }`);
    expect(node.errors).toBeUndefined();
    const set = await gw.gql<{ setBootConfiguration: { id: string } }>(
      `mutation($img: ID!) { setBootConfiguration(input: { selector: { xnames: ["X9000C0S0B0N0"] }, imageId: $img, kernelParameters: "console=ttyS0", rootfsProvider: HTTP }) { id } }`,
      { img: image.id },
    );
    expect(set.errors).toBeUndefined();
    const resolved = await gw.gql<{ bootConfigurationFor: { matchedSelector: string } }>(`{ bootConfigurationFor(xname: "x9000c0s0b0n0") { matchedSelector } }`);
    expect(resolved.data!.bootConfigurationFor.matchedSelector).toBe('xname:x9000c0s0b0n0');
    const script = await gw.gql<{ bootScript: string }>(`{ bootScript(mac: "0a:00:00:00:00:90") }`);
    expect(script.data!.bootScript.split('\n')[0]).toBe('#!ipxe');
    expect(script.data!.bootScript).toMatch(/ BOOTIF=01-0a-00-00-00-00-90 xname=x9000c0s0b0n0 nid=90 root=live:\S+ console=ttyS0 skyboot\.token=[0-9a-f]{20} \|\| goto failed1$/m);

    // Access: viewers cannot write; only agents of a site using the artifact get download URLs.
    const denied = await gw.gql(`mutation { deleteImage(id: "${image.id}") }`, {}, gw.tokens.viewer);
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const agent = await gw.agentToken('local');
    const dl = await gw.gql<{ artifactDownloadUrls: { sha256: string; url: string }[] }>(`query($s: [String!]!) { artifactDownloadUrls(sha256s: $s) { sha256 url } }`, { s: [k.sha256] }, agent);
    expect(dl.errors).toBeUndefined();
    expect((await fetch(dl.data!.artifactDownloadUrls[0]!.url)).status).toBe(200);
    const bad = await gw.gql(`mutation($img: ID!) { setBootConfiguration(input: { selector: { default: true, arch: X86 }, imageId: $img, kernelParameters: "a=1 || shell" }) { id } }`, { img: image.id });
    expect(bad.errors?.[0]).toMatchObject({ message: 'input.kernelParameters: "||" at position 5 is not allowed: iPXE reads || as a command terminator', extensions: { code: 'BAD_USER_INPUT', field: 'input.kernelParameters' } });
  });
});
