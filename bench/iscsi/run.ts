/**
 * bench/iscsi: the real path from an operator setting an image on a node to the node seeing its
 * LUN: the boot configuration is set in the cloud (test gateway on DynamoDB Local, s3rver), the
 * agent (`startAgent`, as `skyboot-agent run`) pulls the snapshot, downloads the rootfs through
 * its presigned URL, verifies it, exports it on a real tgtd, and iscsi-ls (libiscsi) logs in as
 * the node and sees the LUN. Measured against downloading the same bytes from the same S3
 * emulator to disk, and sequential read through tgt against reading the cached file directly.
 * One run, same machine; a fresh image (fresh bytes) per sample, so every sample downloads.
 *
 *   node --import tsx bench/iscsi/run.ts            (SKYBOOT_BENCH_ISCSI_MIB=128 by default)
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { createWriteStream, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { startDynamoDbLocal } from '../../local/emulators.js';
import { s3KeyFor } from '../../functions/images/keys.js';
import { resolveConfig } from '../../onprem-agent/config.js';
import { exportTargetIqn, initiatorIqnFor, targetIqnFor } from '../../onprem-agent/iscsi/naming.js';
import { log } from '../../onprem-agent/logger.js';
import { startAgent } from '../../onprem-agent/run/agent.js';
import { qemuImageOpts, requireTools, run, sha256File, startTgtd } from '../../test/integration/iscsi/tgtd.js';
import { pushIscsiImage } from '../../test/integration/iscsi/siteImage.js';
import { startTestCloud } from '../../test/integration/sync/cloud.js';
import { siteFixture } from '../../test/integration/sync/siteFixture.js';

const SIZE_MIB = Number(process.env.SKYBOOT_BENCH_ISCSI_MIB ?? 128);
const REPS = 3;
const XNAME = 'x1000c0s0b0n0';
const INITIATOR = initiatorIqnFor(XNAME);

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
  const dynamo = await startDynamoDbLocal();
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  const cloud = await startTestCloud();
  const tgtd = await startTgtd();
  let agent: Awaited<ReturnType<typeof startAgent>> | null = null;
  try {
    const fx = await siteFixture(cloud.gw, 'bench');
    writeFileSync(join(dir, 'agent.token'), fx.agentToken);
    agent = await startAgent(resolveConfig({
      cloud: cloud.gw.url, tokenFile: join(dir, 'agent.token'), dataDir: join(dir, 'agent'), http: '127.0.0.1:0', syncInterval: 3600,
      iscsi: 'tgt', iscsiPortal: tgtd.portal, tgtControlPort: String(tgtd.controlPort),
    }), { agentName: 'bench' });
    const c = cloud.gw.aws.clients;

    const visible: number[] = [];
    const download: number[] = [];
    let last: { sha: string; size: number; target: string } | null = null;
    for (let i = 0; i < REPS; i++) {
      const path = join(dir, `rootfs-${i}.squashfs`);
      await writeRandomFile(path, SIZE_MIB);
      const rootfs = { path, sha256: await sha256File(path), size: (await stat(path)).size };
      // The operator's upload: not timed.
      const imageId = await pushIscsiImage(cloud, fx, `bench-${i}`, rootfs);
      await rm(path);
      const target = exportTargetIqn(targetIqnFor('bench', 'test.skyboot'), rootfs.sha256);
      process.stderr.write(`sample ${i + 1}/${REPS}: rootfs ${SIZE_MIB} MiB, sha256 ${rootfs.sha256}\n`);

      // Image set -> pull -> download -> verify -> export -> LUN visible to the node. The pull is
      // woken at once (a real agent waits up to its sync interval, 30 s by default, or its next tick).
      visible.push(await timed(async () => {
        await fx.setBoot({ selector: { xnames: [XNAME] }, imageId, kernelParameters: 'console=ttyS0', rootfsProvider: 'ISCSI' });
        agent!.syncer.wake();
        for (;;) {
          const r = await run('iscsi-ls', ['-s', '-i', INITIATOR, `iscsi://${tgtd.portal}`]);
          if (r.stdout.includes(`Target:${target}`) && /Lun:1\s+Type:DIRECT_ACCESS/.test(r.stdout)) return;
          await new Promise((r2) => setTimeout(r2, 20));
        }
      }));

      // The peer: the same bytes from the same S3 emulator to disk, nothing else.
      const out = join(dir, 'download.bin');
      download.push(await timed(async () => {
        const got = await c.s3.send(new GetObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(rootfs.sha256) }));
        await pipeline(got.Body as Readable, createWriteStream(out));
      }));
      await rm(out);
      last = { sha: rootfs.sha256, size: rootfs.size, target };
    }

    // Sequential read of the last image: the whole LUN through tgt and libiscsi, against the
    // agent's cached file, both into qemu's null sink so only the path differs. The first direct
    // read warms the page cache for both.
    const cached = agent.cache.pathOf(last!.sha);
    const nullSink = ['--target-image-opts', `driver=null-co,size=${last!.size}`];
    const direct: number[] = [];
    const viaTgt: number[] = [];
    await run('qemu-img', ['convert', '-n', '-f', 'raw', cached, ...nullSink]);
    for (let i = 0; i < REPS; i++) {
      direct.push(await timed(async () => check(await run('qemu-img', ['convert', '-n', '-f', 'raw', cached, ...nullSink]))));
      viaTgt.push(await timed(async () => check(await run('qemu-img', ['convert', '-n', '--image-opts',
        qemuImageOpts({ portal: tgtd.portal, targetIqn: last!.target, initiatorIqn: INITIATOR }), ...nullSink]))));
    }

    const mibps = (s: number): number => round(SIZE_MIB / s, 1);
    const result = {
      bench: 'iscsi',
      at: new Date().toISOString(),
      host: { cpus: cpus().length, node: process.version },
      sizeMiB: SIZE_MIB,
      imageSetToLunVisible: { medianSeconds: round(median(visible)), samples: visible.map((x) => round(x)) },
      s3DownloadSameBytes: { medianSeconds: round(median(download)), samples: download.map((x) => round(x)) },
      imageSetToVisibleOverDownload: round(median(visible) / median(download), 3),
      sequentialRead: {
        viaTgtMiBps: mibps(median(viaTgt)),
        directFileMiBps: mibps(median(direct)),
        tgtOverDirect: round(median(direct) / median(viaTgt), 3),
        samplesSeconds: { viaTgt: viaTgt.map((x) => round(x)), direct: direct.map((x) => round(x)) },
      },
    };
    process.stdout.write(
      `iscsi bench (${SIZE_MIB} MiB rootfs, ${REPS} fresh images)\n`
      + `  image set -> agent pulls, downloads, verifies, exports -> LUN visible (iscsi-ls): ${result.imageSetToLunVisible.medianSeconds} s median\n`
      + `  S3 emulator download, same bytes: ${result.s3DownloadSameBytes.medianSeconds} s median\n`
      + `  ratio visible/download: ${result.imageSetToVisibleOverDownload}\n`
      + `  sequential read via tgt: ${result.sequentialRead.viaTgtMiBps} MiB/s, cached file direct: ${result.sequentialRead.directFileMiBps} MiB/s`
      + ` (tgt at ${result.sequentialRead.tgtOverDirect}x of direct)\n`,
    );
    const outPath = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'iscsi.json');
    await mkdir(dirname(outPath), { recursive: true });
    await writeFile(outPath, `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`wrote ${outPath}\n`);
  } finally {
    await agent?.stop();
    await tgtd.stop();
    await cloud.close();
    await dynamo.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function check(r: { code: number; stderr: string }): void {
  if (r.code !== 0) throw new Error(`qemu-img failed: ${r.stderr}`);
}

await main();
