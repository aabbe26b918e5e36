/**
 * Test helpers for the iSCSI integration tests: a private tgtd per test file, small squashfs
 * images, and the libiscsi / qemu user-space initiators. A missing tool fails the test by name.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freeTcpPort } from '../../support/ports.js';

export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length) {
    throw new Error(`iSCSI tests need ${missing.join(', ')} on PATH (Debian: tgt, libiscsi-bin, qemu-utils, qemu-block-extra, squashfs-tools)`);
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

export interface Tgtd {
  portal: string;
  port: number;
  controlPort: number;
  /** Kills tgtd (SIGKILL, as a crash would) and starts a fresh one on the same ports: no targets, no accounts. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** tgtd's control "port" (1..32767) names a unix socket in /var/run/tgtd; pick one no other tgtd uses. */
async function freeControlPort(): Promise<number> {
  for (;;) {
    const n = 1_000 + Math.floor(Math.random() * 31_000);
    if (!existsSync(`/var/run/tgtd/socket.${n}`)) return n;
  }
}

async function spawnTgtd(port: number, controlPort: number): Promise<ChildProcess> {
  const child: ChildProcess = spawn('tgtd', ['-f', '--iscsi', `portal=127.0.0.1:${port}`, '-C', String(controlPort)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await run('tgtadm', ['-C', String(controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'show']);
    if (r.code === 0) return child;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tgtd on 127.0.0.1:${port} (control ${controlPort}) did not start: ${stderr}`);
    }
    await new Promise((r2) => setTimeout(r2, 100));
  }
}

async function kill(child: ChildProcess, controlPort: number): Promise<void> {
  // tgtd ignores SIGTERM while it has targets; it keeps no state worth a clean shutdown here.
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }
  await rm(`/var/run/tgtd/socket.${controlPort}`, { force: true });
  await rm(`/var/run/tgtd/socket.${controlPort}.lock`, { force: true });
}

export async function startTgtd(): Promise<Tgtd> {
  requireTools('tgtd', 'tgtadm');
  const port = await freeTcpPort();
  const controlPort = await freeControlPort();
  let child = await spawnTgtd(port, controlPort);
  return {
    portal: `127.0.0.1:${port}`,
    port,
    controlPort,
    async restart() {
      await kill(child, controlPort);
      child = await spawnTgtd(port, controlPort);
    },
    stop: () => kill(child, controlPort),
  };
}

/** A squashfs of `sizeMiB` random bytes (random so that it does not compress away). */
export async function buildSquashfs(dir: string, name: string, sizeMiB: number): Promise<{ path: string; sha256: string; size: number }> {
  requireTools('mksquashfs');
  const src = join(dir, `${name}.src`);
  await mkdir(src, { recursive: true });
  await writeFile(join(src, 'payload'), randomBytes(sizeMiB * 1024 * 1024));
  await writeFile(join(src, 'os-release'), `NAME=${name}\n`);
  const path = join(dir, `${name}.squashfs`);
  const r = await run('mksquashfs', [src, path, '-noappend', '-quiet', '-no-progress']);
  if (r.code !== 0) throw new Error(`mksquashfs failed: ${r.stderr}`);
  await rm(src, { recursive: true, force: true });
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
  return { path, sha256: await sha256File(path), size };
}

export function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path).on('data', (d) => h.update(d)).once('error', reject).once('end', () => resolve(h.digest('hex')));
  });
}

export interface LoginOptions {
  portal: string;
  targetIqn: string;
  lun?: number;
  initiatorIqn: string;
  user?: string;
  secret?: string;
  mutualUser?: string;
  mutualSecret?: string;
}

/** libiscsi's URL form: `iscsi://user%secret@host:port/target/lun?target_user=..&target_password=..`. */
export function iscsiUrl(o: LoginOptions, withLun = true): string {
  const creds = o.user ? `${o.user}%${o.secret ?? ''}@` : '';
  const path = withLun ? `/${o.targetIqn}/${o.lun ?? 1}` : '';
  const mutual = o.mutualUser ? `?target_user=${o.mutualUser}&target_password=${o.mutualSecret ?? ''}` : '';
  return `iscsi://${creds}${o.portal}${path}${mutual}`;
}

/** qemu's `--image-opts` for its libiscsi driver. */
export function qemuImageOpts(o: LoginOptions): string {
  const auth = o.user ? `,user=${o.user},password=${o.secret ?? ''}` : '';
  return `driver=iscsi,transport=tcp,portal=${o.portal},target=${o.targetIqn},lun=${o.lun ?? 1},initiator-name=${o.initiatorIqn}${auth}`;
}

/**
 * Holds an iSCSI session open: qemu-io opens the LUN (logging in) and waits on stdin for
 * commands, so the I_T nexus lasts until close() ends its stdin.
 */
export async function holdSession(o: LoginOptions, controlPort: number): Promise<{ close(): Promise<void> }> {
  requireTools('qemu-io');
  const child = spawn('qemu-io', ['-r', '--image-opts', qemuImageOpts(o)], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const show = await run('tgtadm', ['-C', String(controlPort), '--lld', 'iscsi', '--mode', 'target', '--op', 'show']);
    if (show.stdout.includes(`Initiator: ${o.initiatorIqn} `)) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`qemu-io did not log in as ${o.initiatorIqn}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    async close() {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}
