/**
 * An image with a squashfs root in the test cloud's S3, READY through the images domain's own
 * verification, as an operator's upload leaves it; the agent under test downloads it itself.
 */
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { s3KeyFor } from '../../../functions/images/keys.js';
import { verifyArtifact } from '../../../functions/images/verify.js';
import type { TestCloud } from '../sync/cloud.js';
import type { SiteFixture } from '../sync/siteFixture.js';

export interface Squashfs {
  path: string;
  sha256: string;
  size: number;
}

export async function putRootfs(cloud: TestCloud, rootfs: Squashfs): Promise<void> {
  const c = cloud.gw.aws.clients;
  await c.s3.send(new PutObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(rootfs.sha256), Body: await readFile(rootfs.path) }));
}

/** What an S3 outage or a lifecycle mistake looks like to the agent: the object answers 404. */
export async function deleteRootfs(cloud: TestCloud, rootfs: Squashfs): Promise<void> {
  const c = cloud.gw.aws.clients;
  await c.s3.send(new DeleteObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(rootfs.sha256) }));
}

/** Creates the image (the fixture's kernel and initrd plus `rootfs`) and uploads and verifies the root. */
export async function pushIscsiImage(cloud: TestCloud, fx: SiteFixture, name: string, rootfs: Squashfs): Promise<string> {
  const created = await cloud.gw.gql<{ createImage: { image: { id: string } } }>(
    `mutation($in: CreateImageInput!) { createImage(input: $in) { image { id } } }`,
    { in: { name, version: '1', arch: 'X86', artifacts: [
      { type: 'KERNEL', size: fx.kernel.size, sha256: fx.kernel.sha256 },
      { type: 'INITRD', size: fx.initrd.size, sha256: fx.initrd.sha256 },
      { type: 'ROOTFS_SQUASHFS', size: rootfs.size, sha256: rootfs.sha256 },
    ] } },
  );
  if (created.errors || !created.data) throw new Error(`createImage ${name}: ${JSON.stringify(created.errors)}`);
  await putRootfs(cloud, rootfs);
  const c = cloud.gw.aws.clients;
  const v = await verifyArtifact(c, c.config.bucketName, rootfs.sha256);
  if (v.status !== 'READY') throw new Error(`rootfs of ${name}: ${JSON.stringify(v)}`);
  return created.data.createImage.image.id;
}

export async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
