/**
 * bench/iscsi: how long from an image being READY in the agent's cache until a node can see its
 * LUN, against the time merely to download the same bytes from the S3 emulator; and sequential
 * read throughput through tgt against reading the cached file directly. One run, same machine.
 *
 *   node --import tsx bench/iscsi/run.ts            (SKYBOOT_BENCH_ISCSI_MIB=256 by default)
 */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { startS3rver } from '../../local/emulators.js';
import { buildIscsiDesiredState } from '../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor } from '../../onprem-agent/iscsi/naming.js';
import { log } from '../../onprem-agent/logger.js';
import { reconcileExports } from '../../onprem-agent/iscsi/reconcile.js';
import { TgtBackend } from '../../onprem-agent/iscsi/tgt-backend.js';
import { qemuImageOpts, requireTools, run, sha256File, startTgtd } from '../../test/integration/iscsi/tgtd.js';

const SIZE_MIB = Number(process.env.SKYBOOT_BENCH_ISCSI_MIB ?? 256);
const VISIBLE_REPS = 5;
const IO_REPS = 3;
const INITIATOR = initiatorIqnFor('x1000c0s0b0n0');

// Step logs would bury the figures; SKYBOOT_LOG_LEVEL still wins when set.
log.level = process.env.SKYBOOT_LOG_LEVEL ?? 'warn';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

async function timed(fn: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function writeRandomFile(path: string, mib: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i < mib; i++) {
    if (!out.write(randomBytes(1024 * 1024))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

async function main(): Promise<void> {
  requireTools('tgtd', 'tgtadm', 'iscsi-ls', 'qemu-img');
  const dir = await mkdtemp(join(tmpdir(), 'skyboot-bench-iscsi-'));
  const tgtd = await startTgtd();
  const s3 = await startS3rver({ dir: join(dir, 's3'), buckets: ['bench'] });
  try {
    const rootfs = join(dir, 'rootfs.squashfs');
    await writeRandomFile(rootfs, SIZE_MIB);
    const sha = await sha256File(rootfs);
    const size = (await stat(rootfs)).size;
    process.stderr.write(`rootfs: ${SIZE_MIB} MiB, sha256 ${sha}\n`);

    // READY → LUN visible: reconcile from an empty target, then poll discovery as a node would.
    const backend = new TgtBackend({ controlPort: tgtd.controlPort });
    const desired = buildIscsiDesiredState({
      agentName: 'bench', siteDomain: 'bench.example.org',
      images: [{ imageId: 'img', imageName: 'bench', version: '1', status: 'READY', rootfsSha256: sha, rootfsSize: size }],
      nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'img', rootfsProvider: 'ISCSI' }],
      cachedPath: () => rootfs,
    });
    const target = desired.exports[0]!.targetIqn;
    const visible: number[] = [];
    for (let i = 0; i < VISIBLE_REPS; i++) {
      visible.push(await timed(async () => {
        await reconcileExports({ backend, desired, dataDir: join(dir, 'data'), chap: null });
        for (;;) {
          const r = await run('iscsi-ls', ['-s', '-i', INITIATOR, `iscsi://${tgtd.portal}`]);
          if (r.stdout.includes(`Target:${target}`) && /Lun:1\s+Type:DIRECT_ACCESS/.test(r.stdout)) return;
        }
      }));
      await backend.removeExport(target);
    }

    // The peer: the raw download of the same bytes from the S3 emulator to disk.
    const client = new S3Client({
      endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await client.send(new PutObjectCommand({ Bucket: 'bench', Key: `sha256/${sha}`, Body: createReadStream(rootfs), ContentLength: size }));
    const download: number[] = [];
    for (let i = 0; i < IO_REPS; i++) {
      const out = join(dir, 'download.bin');
      download.push(await timed(async () => {
        const got = await client.send(new GetObjectCommand({ Bucket: 'bench', Key: `sha256/${sha}` }));
        await pipeline(got.Body as Readable, createWriteStream(out));
      }));
      await rm(out);
    }
    client.destroy();

    // Sequential read: the whole LUN through tgt and libiscsi, against the cached file, both into
    // qemu's null sink so only the path differs. The first direct read warms the page cache for both.
    await reconcileExports({ backend, desired, dataDir: join(dir, 'data'), chap: null });
    const nullSink = ['--target-image-opts', `driver=null-co,size=${size}`];
    const direct: number[] = [];
    const viaTgt: number[] = [];
    await run('qemu-img', ['convert', '-n', '-f', 'raw', rootfs, ...nullSink]);
    for (let i = 0; i < IO_REPS; i++) {
      direct.push(await timed(async () => check(await run('qemu-img', ['convert', '-n', '-f', 'raw', rootfs, ...nullSink]))));
      viaTgt.push(await timed(async () => check(await run('qemu-img', ['convert', '-n', '--image-opts',
        qemuImageOpts({ portal: tgtd.portal, targetIqn: target, initiatorIqn: INITIATOR }), ...nullSink]))));
    }

    const mibps = (s: number): number => round(SIZE_MIB / s, 1);
    const result = {
      bench: 'iscsi',
      at: new Date().toISOString(),
      host: { cpus: cpus().length, node: process.version },
      sizeMiB: SIZE_MIB,
      readyToLunVisible: { medianSeconds: round(median(visible)), samples: visible.map((x) => round(x)) },
      s3DownloadSameBytes: { medianSeconds: round(median(download)), samples: download.map((x) => round(x)) },
      readyToVisibleOverDownload: round(median(visible) / median(download), 3),
      sequentialRead: {
        viaTgtMiBps: mibps(median(viaTgt)),
        directFileMiBps: mibps(median(direct)),
        tgtOverDirect: round(median(direct) / median(viaTgt), 3),
        samplesSeconds: { viaTgt: viaTgt.map((x) => round(x)), direct: direct.map((x) => round(x)) },
      },
    };
    process.stdout.write(
      `iscsi bench (${SIZE_MIB} MiB rootfs)\n`
      + `  READY -> LUN visible (iscsi-ls): ${result.readyToLunVisible.medianSeconds} s median of ${VISIBLE_REPS}\n`
      + `  S3 emulator download, same bytes: ${result.s3DownloadSameBytes.medianSeconds} s median of ${IO_REPS}\n`
      + `  ratio visible/download: ${result.readyToVisibleOverDownload}\n`
      + `  sequential read via tgt: ${result.sequentialRead.viaTgtMiBps} MiB/s, cached file direct: ${result.sequentialRead.directFileMiBps} MiB/s`
      + ` (tgt at ${result.sequentialRead.tgtOverDirect}x of direct)\n`,
    );
    const outPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'iscsi.json');
    await mkdir(dirname(outPath), { recursive: true });
    await writeFile(outPath, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`wrote ${outPath}\n`);
  } finally {
    await s3.stop();
    await tgtd.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function check(r: { code: number; stderr: string }): void {
  if (r.code !== 0) throw new Error(`qemu-img failed: ${r.stderr}`);
}

await main();
