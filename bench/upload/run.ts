/**
 * Push throughput of a 1 GiB file to a fresh s3rver on 127.0.0.1, in one run:
 *  - Skyboot's path: createImage (DynamoDB Local) → presigned UploadPart URLs → parallel PUTs
 *    (4 at a time, the CLI's uploader) → completeArtifactUpload → S3-event finalizer verifies;
 *  - the peer: the AWS SDK's own `Upload` helper (lib-storage) of the same file, same part size
 *    and queue size, straight to the bucket.
 * The ratio compares the transfer phases (the same work: bytes into multipart parts + complete);
 * hashing before and verification after are reported separately because the peer does neither.
 *
 *   node --import tsx bench/upload/run.ts [--mib 1024]
 */
import { createReadStream, mkdirSync, mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { Upload } from '@aws-sdk/lib-storage';
import { startDynamoDbLocal, startS3rver } from '../../local/emulators.js';
import { clients, resetClients } from '../../functions/shared/clients.js';
import { tableDefinition } from '../../functions/shared/table.js';
import { deliverS3rverEvents } from '../../functions/images/localEvents.js';
import { handler } from '../../functions/images/handler.js';
import { hashFile, uploadArtifact, type ArtifactUploadPlan } from '../../cli/upload.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const mibArg = process.argv.indexOf('--mib');
const MIB = mibArg > 0 ? Number(process.argv[mibArg + 1]) : 1024;
const SIZE = MIB * 1024 * 1024;
const CONCURRENCY = 4;
const say = (s: string) => process.stderr.write(`[bench/upload] ${s}\n`);
const identity = { subject: 'bench', roles: ['admin' as const], site: null };

async function call<T>(operation: string, args: Record<string, unknown>): Promise<T> {
  const { results } = await handler({ domain: 'images', identity, requestId: `bench-${operation}`, calls: [{ operation, args }] });
  const r = results[0]!;
  if (!r.ok) throw new Error(`${operation}: ${r.error.message}`);
  return r.value as T;
}

const work = mkdtempSync(join(tmpdir(), 'skyboot-bench-upload-'));
const [dynamo, s3] = await Promise.all([startDynamoDbLocal(), startS3rver({ dir: join(work, 's3') })]);
try {
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  process.env.SKYBOOT_TABLE = 'bench';
  process.env.SKYBOOT_BUCKET = 'bench';
  process.env.SKYBOOT_LOCAL = '1';
  resetClients();
  const c = clients();
  await c.ddb.send(new CreateTableCommand(tableDefinition('bench')));
  while ((await c.ddb.send(new DescribeTableCommand({ TableName: 'bench' }))).Table?.TableStatus !== 'ACTIVE') await new Promise((r) => setTimeout(r, 100));
  await c.s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const delivery = deliverS3rverEvents(s3.server, { bucket: 'bench' });

  say(`writing a ${MIB} MiB random file`);
  mkdirSync(work, { recursive: true });
  const file = join(work, 'rootfs.squashfs');
  const fd = openSync(file, 'w');
  const chunk = randomBytes(16 * 1024 * 1024);
  for (let written = 0; written < SIZE; written += chunk.length) {
    chunk.writeUInt32LE(written / chunk.length, 0); // every chunk distinct
    writeSync(fd, chunk, 0, Math.min(chunk.length, SIZE - written));
  }
  closeSync(fd);
  const kernel = join(work, 'vmlinuz');
  writeFileSync(kernel, randomBytes(4096));

  // --- Skyboot's path ---
  let t = performance.now();
  const [k, r] = [await hashFile(kernel), await hashFile(file)];
  const hashSeconds = (performance.now() - t) / 1000;
  t = performance.now();
  const created = await call<{ image: { id: string }; uploads: ArtifactUploadPlan[] }>('createImage', {
    input: { name: 'bench', version: '1', arch: 'X86', artifacts: [{ type: 'KERNEL', size: 4096, sha256: k.sha256 }, { type: 'ROOTFS_SQUASHFS', size: r.size, sha256: r.sha256 }] },
  });
  const createSeconds = (performance.now() - t) / 1000;
  const plan = created.uploads.find((u) => u.type === 'ROOTFS_SQUASHFS')!;
  say(`skyboot: ${plan.partCount} parts of ${plan.partSize / 1024 / 1024} MiB, ${CONCURRENCY} in parallel`);
  t = performance.now();
  const parts = await uploadArtifact(file, plan, { concurrency: CONCURRENCY });
  await call('completeArtifactUpload', { imageId: created.image.id, type: 'ROOTFS_SQUASHFS', uploadId: plan.uploadId, parts });
  const transferSeconds = (performance.now() - t) / 1000;
  const kPlan = created.uploads.find((u) => u.type === 'KERNEL')!;
  await call('completeArtifactUpload', { imageId: created.image.id, type: 'KERNEL', uploadId: kPlan.uploadId, parts: await uploadArtifact(kernel, kPlan) });
  t = performance.now();
  await delivery.idle();
  const verifySeconds = (performance.now() - t) / 1000;
  const image = await call<{ status: string }>('image', { id: created.image.id });
  if (image.status !== 'READY') throw new Error(`image ended ${image.status}`);

  // --- the peer: lib-storage Upload, same part size and queue ---
  say('peer: @aws-sdk/lib-storage Upload');
  t = performance.now();
  await new Upload({ client: c.s3, params: { Bucket: 'bench', Key: 'peer/rootfs.squashfs', Body: createReadStream(file, { highWaterMark: 1 << 20 }) }, partSize: plan.partSize, queueSize: CONCURRENCY }).done();
  const peerSeconds = (performance.now() - t) / 1000;
  delivery.stop();

  const mibps = (s: number) => MIB / s;
  const result = {
    fileMiB: MIB,
    partSizeMiB: plan.partSize / 1024 / 1024,
    parts: plan.partCount,
    concurrency: CONCURRENCY,
    skyboot: {
      transferSeconds: +transferSeconds.toFixed(2),
      transferMiBps: +mibps(transferSeconds).toFixed(1),
      hashSeconds: +hashSeconds.toFixed(2),
      createImageSeconds: +createSeconds.toFixed(3),
      verifySeconds: +verifySeconds.toFixed(2),
      endToEndSeconds: +(hashSeconds + createSeconds + transferSeconds + verifySeconds).toFixed(2),
      endToEndMiBps: +mibps(hashSeconds + createSeconds + transferSeconds + verifySeconds).toFixed(1),
    },
    sdkUpload: { seconds: +peerSeconds.toFixed(2), MiBps: +mibps(peerSeconds).toFixed(1) },
    ratioTransferVsSdk: +(peerSeconds / transferSeconds).toFixed(2),
    at: new Date().toISOString(),
  };
  mkdirSync('bench/out', { recursive: true });
  writeFileSync('bench/out/upload.json', `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `upload ${MIB} MiB to s3rver: skyboot presigned multipart ${result.skyboot.transferMiBps} MiB/s vs SDK Upload ${result.sdkUpload.MiBps} MiB/s ` +
      `(ratio ${result.ratioTransferVsSdk}x); end-to-end push incl. sha256 + verification ${result.skyboot.endToEndMiBps} MiB/s`,
  );
} finally {
  await s3.stop().catch(() => undefined);
  await dynamo.stop().catch(() => undefined);
  resetClients();
  rmSync(work, { recursive: true, force: true });
}
