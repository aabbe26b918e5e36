import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { handler } from '../../../functions/images/handler.js';
import { uploadArtifact, type ArtifactUploadPlan } from '../../../cli/upload.js';
import { agentOf, callerOf, randomFile, startLocalImagesStack, type LocalImagesStack } from './localStack.js';

const MiB = 1024 * 1024;
const call = callerOf(handler, 'images');

interface Result {
  image: { id: string; status: string; reason: string | null; artifacts: { type: string; sha256: string; status: string; reason: string | null }[] };
  uploads: ArtifactUploadPlan[];
  resumed: boolean;
}

describe('images: presigned multipart upload to s3rver, verified by the S3 event finalizer', () => {
  let stack: LocalImagesStack;
  beforeAll(async () => {
    stack = await startLocalImagesStack('images');
  });
  afterAll(() => stack.dispose());

  async function push(files: Record<string, { path: string; size: number; sha256: string }>, name: string, version: string, labels: { key: string; value: string }[] = []) {
    const created = await call<Result>('createImage', {
      input: { name, version, arch: 'X86', labels, artifacts: Object.entries(files).map(([type, f]) => ({ type, size: f.size, sha256: f.sha256 })) },
    });
    for (const u of created.uploads) {
      const parts = await uploadArtifact(files[u.type]!.path, u, { concurrency: 4 });
      await call('completeArtifactUpload', { imageId: created.image.id, type: u.type, uploadId: u.uploadId, parts });
    }
    await stack.delivery.idle();
    return created;
  }

  it('uploads kernel, initrd and rootfs; the finalizer verifies each and the image turns READY', async () => {
    const kernel = randomFile(stack.dir, 'vmlinuz', 64 * 1024);
    const initrd = randomFile(stack.dir, 'initrd', 256 * 1024);
    const rootfs = randomFile(stack.dir, 'rootfs', 2 * MiB);
    const created = await push({ KERNEL: kernel, INITRD: initrd, ROOTFS_SQUASHFS: rootfs }, 'compute', '1.0', [{ key: 'os', value: 'rocky9' }]);
    expect(created.image.status).toBe('UPLOADING');
    expect(created.uploads.map((u) => u.type)).toEqual(['KERNEL', 'INITRD', 'ROOTFS_SQUASHFS']);
    expect(created.uploads[2]!.partSize).toBe(8 * MiB);
    const img = await call<Result['image']>('image', { id: created.image.id });
    expect(img.status).toBe('READY');
    expect(img.artifacts.map((a) => a.status)).toEqual(['READY', 'READY', 'READY']);
    const head = await stack.aws.clients.s3.send(new HeadObjectCommand({ Bucket: stack.aws.bucketName, Key: `artifacts/sha256/${rootfs.sha256}` }));
    expect(head.ContentLength).toBe(rootfs.size);
    expect(stack.delivery.errors).toEqual([]);

    // Lists are Queries on indexes: by name, arch, label, status.
    const ids = (page: { edges: { node: { id: string } }[] }) => page.edges.map((e) => e.node.id);
    expect(ids(await call('images', { filter: { name: 'compute' } }))).toEqual([img.id]);
    expect(ids(await call('images', { filter: { label: { key: 'os', value: 'rocky9' } } }))).toEqual([img.id]);
    expect(ids(await call('images', { filter: { label: { key: 'os', value: 'sles' } } }))).toEqual([]);
    expect(ids(await call('images', { filter: { status: 'READY', arch: 'X86' } }))).toContain(img.id);
    expect(ids(await call('images', { filter: { arch: 'ARM' } }))).toEqual([]);

    // Same content in a new image: reused, nothing to upload, READY at once.
    const again = await call<Result>('createImage', {
      input: { name: 'compute', version: '1.1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: kernel.size, sha256: kernel.sha256 }, { type: 'INITRD', size: initrd.size, sha256: initrd.sha256 }] },
    });
    expect(again.uploads).toEqual([]);
    expect(again.image.status).toBe('READY');

    // The agent of a site whose boot configuration uses the image gets working presigned GETs.
    await stack.aws.clients.doc.send(new PutCommand({ TableName: stack.aws.tableName, Item: { PK: `IMAGE#${img.id}`, SK: 'REF#BOOT_CONFIGURATION#cfg1', site: 'lab' } }));
    const [dl] = await call<{ url: string; size: number }[]>('artifactDownloadUrls', { sha256s: [kernel.sha256] }, agentOf('lab'));
    const body = Buffer.from(await (await fetch(dl!.url)).arrayBuffer());
    expect(body.length).toBe(kernel.size);
    await expect(call('artifactDownloadUrls', { sha256s: [kernel.sha256] }, agentOf('other'))).rejects.toMatchObject({ code: 'FORBIDDEN' });

    // Referenced: delete refused, naming the reference; image name+version stays taken.
    await expect(call('deleteImage', { id: img.id })).rejects.toThrow(/in use by boot configuration cfg1/);
    await expect(
      call('createImage', { input: { name: 'compute', version: '1.0', arch: 'X86', artifacts: [{ type: 'KERNEL', size: 5, sha256: 'f'.repeat(64) }] } }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('a corrupted upload (bytes differ from the declared sha256) turns FAILED with the reason, the object is deleted, and a re-push restarts it', async () => {
    const declared = randomFile(stack.dir, 'good-kernel', 100 * 1024);
    const actual = randomFile(stack.dir, 'bad-kernel', 100 * 1024);
    const created = await call<Result>('createImage', { input: { name: 'broken', version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: declared.size, sha256: declared.sha256 }] } });
    const parts = await uploadArtifact(actual.path, created.uploads[0]!);
    await call('completeArtifactUpload', { imageId: created.image.id, type: 'KERNEL', uploadId: created.uploads[0]!.uploadId, parts });
    await stack.delivery.idle();
    const img = await call<Result['image']>('image', { id: created.image.id });
    expect(img.status).toBe('FAILED');
    expect(img.reason).toBe(`KERNEL: sha256 mismatch: declared ${declared.sha256}, content hashes to ${actual.sha256}`);
    expect(img.artifacts[0]!.status).toBe('FAILED');
    await expect(stack.aws.clients.s3.send(new HeadObjectCommand({ Bucket: stack.aws.bucketName, Key: `artifacts/sha256/${declared.sha256}` }))).rejects.toMatchObject({ name: 'NotFound' });
    const failed = await call<{ edges: { node: { id: string } }[] }>('images', { filter: { status: 'FAILED' } });
    expect(failed.edges.map((e) => e.node.id)).toEqual([img.id]);
    // Pushing the same declaration again restarts the failed artifact with a fresh upload.
    const retry = await call<Result>('createImage', { input: { name: 'broken', version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: declared.size, sha256: declared.sha256 }] } });
    expect(retry.resumed).toBe(true);
    expect(retry.uploads[0]!.uploadId).not.toBe(created.uploads[0]!.uploadId);
    await call('completeArtifactUpload', { imageId: img.id, type: 'KERNEL', uploadId: retry.uploads[0]!.uploadId, parts: await uploadArtifact(declared.path, retry.uploads[0]!) });
    await stack.delivery.idle();
    expect(await call('image', { id: img.id })).toMatchObject({ status: 'READY', reason: null });
    // Unreferenced: it can be deleted.
    await expect(call('deleteImage', { id: img.id })).resolves.toBe(true);
    await expect(call('image', { id: img.id })).resolves.toBeNull();
  });

  it('an interrupted upload resumed by re-running createImage uploads only the missing parts', async () => {
    const kernel = randomFile(stack.dir, 'k2', 4096);
    const rootfs = randomFile(stack.dir, 'rootfs2', 17 * MiB); // 3 parts: 8 + 8 + 1 MiB
    const input = { name: 'resumable', version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: kernel.size, sha256: kernel.sha256 }, { type: 'ROOTFS_SQUASHFS', size: rootfs.size, sha256: rootfs.sha256 }] };
    const first = await call<Result>('createImage', { input });
    const plan = first.uploads.find((u) => u.type === 'ROOTFS_SQUASHFS')!;
    expect(plan.partCount).toBe(3);
    // "Killed halfway": only parts 1 and 3 were sent, the kernel not at all.
    let puts = 0;
    await uploadArtifact(rootfs.path, { ...plan, parts: plan.parts.filter((p) => p.partNumber !== 2) }, { onPart: () => puts++ });
    expect(puts).toBe(2);

    const second = await call<Result>('createImage', { input });
    expect(second.resumed).toBe(true);
    expect(second.image.id).toBe(first.image.id);
    const resumed = second.uploads.find((u) => u.type === 'ROOTFS_SQUASHFS')!;
    expect(resumed.uploadId).toBe(plan.uploadId);
    expect(resumed.parts.map((p) => p.partNumber)).toEqual([2]);
    expect(resumed.uploadedParts.map((p) => p.partNumber)).toEqual([1, 3]);
    expect(second.uploads.find((u) => u.type === 'KERNEL')!.parts.map((p) => p.partNumber)).toEqual([1]);

    puts = 0;
    for (const u of second.uploads) {
      const parts = await uploadArtifact(u.type === 'KERNEL' ? kernel.path : rootfs.path, u, { onPart: () => puts++ });
      await call('completeArtifactUpload', { imageId: second.image.id, type: u.type, uploadId: u.uploadId, parts });
    }
    expect(puts).toBe(2); // rootfs part 2 and the kernel's single part
    await stack.delivery.idle();
    expect((await call<Result['image']>('image', { id: first.image.id })).status).toBe('READY');
    // A third run has nothing left to do.
    const third = await call<Result>('createImage', { input });
    expect(third.uploads).toEqual([]);
    expect(third.image.status).toBe('READY');
  });

  it('refuses bad input naming the field', async () => {
    await expect(call('createImage', { input: { name: 'a#b', version: '1', arch: 'X86', artifacts: [] } })).rejects.toThrow(/^input.name: /);
    await expect(call('createImage', { input: { name: 'a', version: '1', arch: 'X86', artifacts: [{ type: 'INITRD', size: 1, sha256: 'a'.repeat(64) }] } })).rejects.toThrow(/KERNEL artifact is required/);
    await expect(call('createImage', { input: { name: 'a', version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: 1, sha256: 'xyz' }] } })).rejects.toThrow(/sha256: "xyz" is not a sha256/);
  });
});
