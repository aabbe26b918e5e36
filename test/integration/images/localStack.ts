/**
 * For images/boot/CLI integration tests: an s3rver of the test file's own (its S3 events must be
 * delivered in this process), DynamoDB from the global harness, and a fresh table + bucket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver, type RunningS3 } from '../../../local/emulators.js';
import { deliverS3rverEvents, type LocalEventDelivery } from '../../../functions/images/localEvents.js';
import type { DomainHandler } from '../../../functions/shared/handler.js';
import type { Identity } from '../../../functions/shared/identity.js';
import { freshAws, type TestAws } from '../../support/aws.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

export const admin: Identity = { subject: 'test-admin', roles: ['admin'], site: null };
export const agentOf = (site: string): Identity => ({ subject: `agent-${site}`, roles: ['agent'], site });

export interface LocalImagesStack {
  aws: TestAws;
  s3: RunningS3;
  delivery: LocalEventDelivery;
  dir: string;
  dispose(): Promise<void>;
}

/** The test file's own s3rver in a fresh directory, AWS_ENDPOINT_URL_S3 pointing at it until `stop`. */
async function ownS3rver(prefix: string): Promise<{ dir: string; s3: RunningS3; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `skyboot-${prefix}-`));
  const s3 = await startS3rver({ dir: join(dir, 's3') });
  const previous = process.env.AWS_ENDPOINT_URL_S3;
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  return {
    dir,
    s3,
    stop: async () => {
      await s3.stop();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
      else process.env.AWS_ENDPOINT_URL_S3 = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startLocalImagesStack(prefix: string): Promise<LocalImagesStack> {
  const { dir, s3, stop } = await ownS3rver(prefix);
  const aws = await freshAws(prefix);
  const delivery = deliverS3rverEvents(s3.server, { bucket: aws.bucketName });
  return {
    aws,
    s3,
    delivery,
    dir,
    dispose: async () => {
      delivery.stop();
      await aws.dispose();
      await stop();
    },
  };
}

export interface ImagesGateway {
  gw: TestGateway;
  delivery: LocalEventDelivery;
  dir: string;
  dispose(): Promise<void>;
}

/** The real gateway (auth, scalars, routing) over the same: s3rver events delivered to the finalizer. */
export async function startImagesGateway(prefix: string): Promise<ImagesGateway> {
  const { dir, s3, stop } = await ownS3rver(prefix);
  const gw = await startTestGateway();
  const delivery = deliverS3rverEvents(s3.server, { bucket: gw.aws.bucketName });
  return {
    gw,
    delivery,
    dir,
    dispose: async () => {
      delivery.stop();
      await gw.close();
      await stop();
    },
  };
}

export function callerOf(handler: DomainHandler, domain: string) {
  return async <T = unknown>(operation: string, args: Record<string, unknown>, identity: Identity = admin): Promise<T> => {
    const { results } = await handler({ domain, identity, requestId: `test-${operation}`, calls: [{ operation, args }] });
    const r = results[0]!;
    if (!r.ok) throw Object.assign(new Error(r.error.message), { code: r.error.code, field: r.error.field });
    return r.value as T;
  };
}

/** A file of random bytes; returns its path, size and sha256. */
export function randomFile(dir: string, name: string, size: number): { path: string; size: number; sha256: string } {
  const buf = randomBytes(size);
  const path = join(dir, name);
  writeFileSync(path, buf);
  return { path, size, sha256: createHash('sha256').update(buf).digest('hex') };
}

/** Creates an image and uploads its files through the presigned URLs; waits for the finalizer. */
export async function pushImage(
  stack: LocalImagesStack,
  call: ReturnType<typeof callerOf>,
  opts: { name: string; version: string; arch?: string; files: Record<string, { path: string; size: number; sha256: string }>; upload?: Record<string, string> },
): Promise<{ id: string; status: string; reason: string | null }> {
  const { uploadArtifact } = await import('../../../cli/upload.js');
  const created = await call<{ image: { id: string }; uploads: { type: string; uploadId: string; partSize: number; partCount: number; sha256: string; parts: { partNumber: number; url: string }[]; uploadedParts: { partNumber: number; etag: string; size: number }[] }[] }>(
    'createImage',
    { input: { name: opts.name, version: opts.version, arch: opts.arch ?? 'X86', artifacts: Object.entries(opts.files).map(([type, f]) => ({ type, size: f.size, sha256: f.sha256 })) } },
  );
  for (const u of created.uploads) {
    // `upload` lets a test send other bytes than it declared (a corrupted upload).
    const parts = await uploadArtifact(opts.upload?.[u.type] ?? opts.files[u.type]!.path, u);
    await call('completeArtifactUpload', { imageId: created.image.id, type: u.type, uploadId: u.uploadId, parts });
  }
  await stack.delivery.idle();
  return call('image', { id: created.image.id });
}
