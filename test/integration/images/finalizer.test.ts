import { createHash, randomBytes } from 'node:crypto';
import { PutObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { S3Event } from 'aws-lambda';
import { handler as finalize } from '../../../functions/images/finalizer.js';
import { artifactKey } from '../../../functions/images/keys.js';
import { freshAws, type TestAws } from '../../support/aws.js';
import { handler as images } from '../../../functions/images/handler.js';
import { uploadArtifact, type ArtifactUploadPlan } from '../../../cli/upload.js';
import { callerOf, randomFile } from './localStack.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The event as S3 sends it to the Lambda (trimmed to the fields the handler reads, typed as the real one). */
function s3Event(bucket: string, key: string, eventName = 'ObjectCreated:CompleteMultipartUpload'): S3Event {
  return { Records: [{ eventName, s3: { bucket: { name: bucket }, object: { key } } }] } as unknown as S3Event;
}

describe('finalizer Lambda on S3 ObjectCreated events', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('finalizer');
  });
  afterAll(() => aws.dispose());

  async function artifact(bytes: Buffer, declared = createHash('sha256').update(bytes).digest('hex'), size = bytes.length) {
    // The item createImage writes (create.ts), moved on to VERIFYING: reads decode it and refuse one without its timestamps.
    const now = new Date().toISOString();
    await aws.clients.doc.send(
      new PutCommand({ TableName: aws.tableName, Item: { ...artifactKey(declared), entity: 'Artifact', sha256: declared, size, status: 'VERIFYING', s3Key: `artifacts/sha256/${declared}`, version: 1, createdAt: now, updatedAt: now } }),
    );
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: aws.bucketName, Key: `artifacts/sha256/${declared}`, Body: bytes }));
    return declared;
  }
  const status = async (sha: string) => (await aws.clients.doc.send(new GetCommand({ TableName: aws.tableName, Key: artifactKey(sha) }))).Item;

  it('verifies a matching object (READY) and ignores a redelivery and keys outside artifacts/sha256/', async () => {
    const sha = await artifact(randomBytes(50_000));
    expect((await finalize(s3Event(aws.bucketName, `artifacts/sha256/${sha}`))).results).toEqual([{ sha256: sha, status: 'READY' }]);
    expect((await status(sha))!.status).toBe('READY');
    expect((await finalize(s3Event(aws.bucketName, `artifacts/sha256/${sha}`))).results).toEqual([{ sha256: sha, status: 'READY' }]);
    expect((await finalize(s3Event(aws.bucketName, 'uploads/x+y%2Fz'))).results).toEqual([]);
    expect((await finalize(s3Event(aws.bucketName, `artifacts/sha256/${sha}`, 'ObjectRemoved:Delete'))).results).toEqual([]);
  });

  it('fails a size mismatch with the reason and deletes the object', async () => {
    const bytes = randomBytes(1000);
    const sha = await artifact(bytes, createHash('sha256').update(bytes).digest('hex'), 999);
    const [r] = (await finalize(s3Event(aws.bucketName, `artifacts/sha256/${sha}`))).results;
    expect(r).toEqual({ sha256: sha, status: 'FAILED', reason: 'size mismatch: declared 999 bytes, S3 holds 1000' });
    expect((await status(sha))!.reason).toBe('size mismatch: declared 999 bytes, S3 holds 1000');
    await expect(aws.clients.s3.send(new HeadObjectCommand({ Bucket: aws.bucketName, Key: `artifacts/sha256/${sha}` }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it('deletes an object no artifact record claims', async () => {
    const stray = 'e'.repeat(64);
    await aws.clients.s3.send(new PutObjectCommand({ Bucket: aws.bucketName, Key: `artifacts/sha256/${stray}`, Body: 'x' }));
    expect((await finalize(s3Event(aws.bucketName, `artifacts/sha256/${stray}`))).results).toEqual([{ sha256: stray, status: 'IGNORED', reason: 'no artifact record' }]);
    await expect(aws.clients.s3.send(new HeadObjectCommand({ Bucket: aws.bucketName, Key: `artifacts/sha256/${stray}` }))).rejects.toMatchObject({ name: 'NotFound' });
  });

  it(`uploads through an S3 endpoint without ListParts or event delivery (the harness's shared ${process.env.SKYBOOT_TEST_BACKEND ?? ''} backend), the event handed to the finalizer directly`, async () => {
    const call = callerOf(images, 'images');
    const f = randomFile(mkdtempSync(join(tmpdir(), 'skyboot-plain-')), 'k', 9000);
    const input = { name: 'plain', version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: f.size, sha256: f.sha256 }] };
    const first = await call<{ image: { id: string }; uploads: ArtifactUploadPlan[] }>('createImage', { input });
    const again = await call<{ uploads: ArtifactUploadPlan[] }>('createImage', { input });
    expect(again.uploads[0]!.uploadId).toBe(first.uploads[0]!.uploadId);
    const parts = await uploadArtifact(f.path, again.uploads[0]!);
    await call('completeArtifactUpload', { imageId: first.image.id, type: 'KERNEL', uploadId: again.uploads[0]!.uploadId, parts });
    await finalize(s3Event(aws.bucketName, `artifacts/sha256/${f.sha256}`));
    expect(await call('image', { id: first.image.id })).toMatchObject({ status: 'READY' });
  });
});
