/**
 * The content-addressed artifact cache: `<dir>/sha256/<hex>` holds verified artifacts only;
 * downloads grow `<dir>/partial/<hex>.part` and resume from its length with a Range request.
 * A finished download is hashed, fsync'd and renamed into sha256/ (then the directory fsync'd),
 * so a crash leaves a partial file or a complete verified one. Files are hashed again on first
 * use in each process before anything is served: a file changed on disk is deleted, never served.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { log } from '../logger.js';
import { fsyncDir } from '../sync/atomicFile.js';

const HEX64 = /^[0-9a-f]{64}$/;

export class DigestMismatchError extends Error {}

/** What changed in the verified set: a download finished, or files were removed (GC, corruption). */
export interface VerifiedSetChange {
  added: string[];
  removed: string[];
}
export type VerifiedSetListener = (change: VerifiedSetChange) => void;

export interface CacheStats {
  entries: number;
  bytes: number;
  partialEntries: number;
  partialBytes: number;
  verifiedThisRun: number;
  corruptDeleted: number;
  downloadedBytes: number;
  resumedDownloads: number;
}

/**
 * One GET through node:http(s): a presigned URL needs no redirects or cookies, and Node's
 * streams move a large body at several times the speed of fetch's web streams here.
 */
function httpGet(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return Promise.reject(new Error(`artifact URL ${u.protocol}//${u.host}: only http(s) is supported`));
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(u, { method: 'GET', headers }, resolve);
    req.setTimeout(60_000, () => req.destroy(new Error(`artifact GET ${u.host}: no data for 60 s`)));
    req.once('error', reject);
    req.end();
  });
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 1024 * 1024 }), h);
  return h.digest('hex');
}

export class ArtifactCache {
  readonly verifiedDir: string;
  readonly partialDir: string;
  private readonly verified = new Map<string, Promise<boolean>>();
  private readonly inflight = new Map<string, Promise<void>>();
  private counters = { corruptDeleted: 0, downloadedBytes: 0, resumedDownloads: 0 };
  private readonly listeners = new Set<VerifiedSetListener>();

  constructor(readonly dir: string) {
    this.verifiedDir = join(dir, 'sha256');
    this.partialDir = join(dir, 'partial');
  }

  async init(): Promise<this> {
    await mkdir(this.verifiedDir, { recursive: true });
    await mkdir(this.partialDir, { recursive: true });
    return this;
  }

  /**
   * Called after the set of verified artifacts changed. Consumers that act on what is cached
   * (iSCSI exports) follow this rather than snapshot changes: a download finishes minutes after
   * the snapshot that asked for it. Returns the unsubscribe function.
   */
  onVerifiedChange(listener: VerifiedSetListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: VerifiedSetChange): void {
    if (change.added.length === 0 && change.removed.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'cache listener failed');
      }
    }
  }

  pathOf(sha: string): string {
    if (!HEX64.test(sha)) throw new Error(`"${sha}" is not a lower-case hex sha256`);
    return join(this.verifiedDir, sha);
  }

  private partialOf(sha: string): string {
    return join(this.partialDir, `${sha}.part`);
  }

  async has(sha: string): Promise<boolean> {
    return (await stat(this.pathOf(sha)).catch(() => null))?.isFile() ?? false;
  }

  /**
   * The path of a verified artifact, or null when it is absent or failed verification (then it
   * is deleted). Hashes the file once per process; concurrent callers share the one hash.
   */
  async verifiedPath(sha: string): Promise<string | null> {
    if (!HEX64.test(sha)) return null;
    const path = this.pathOf(sha);
    let p = this.verified.get(sha);
    if (!p) {
      p = (async () => {
        if (!(await this.has(sha))) return false;
        const actual = await sha256File(path);
        if (actual === sha) return true;
        log.error({ sha256: sha, actual }, 'cached artifact does not match its digest; deleted');
        this.counters.corruptDeleted++;
        await rm(path, { force: true });
        this.emit({ added: [], removed: [sha] });
        return false;
      })();
      this.verified.set(sha, p);
      // A miss is not remembered: the artifact may be downloaded later.
      void p.then((ok) => { if (!ok) this.verified.delete(sha); }, () => this.verified.delete(sha));
    }
    return (await p) ? path : null;
  }

  /** Forget a verification (the file was replaced or removed). */
  private invalidate(sha: string): void {
    this.verified.delete(sha);
  }

  /** Downloads `sha` from `url` unless already cached and verified; resumes a partial download. */
  ensure(sha: string, size: number, url: string): Promise<void> {
    let p = this.inflight.get(sha);
    if (!p) {
      p = this.download(sha, size, url).finally(() => this.inflight.delete(sha));
      this.inflight.set(sha, p);
    }
    return p;
  }

  private async download(sha: string, size: number, url: string): Promise<void> {
    if (await this.verifiedPath(sha)) return;
    const part = this.partialOf(sha);
    let have = (await stat(part).catch(() => null))?.size ?? 0;
    if (have > size) {
      await truncate(part, 0);
      have = 0;
    }
    // The digest is computed as the bytes are written (a resumed download first hashes what it
    // has), so a finished download is not read back a second time before it is renamed.
    const hash = createHash('sha256');
    let written = 0;
    if (have < size) {
      const res = await httpGet(url, have > 0 ? { range: `bytes=${have}-` } : {});
      if (res.statusCode === 416) {
        res.resume();
        await truncate(part, 0).catch(() => undefined);
        throw new Error(`artifact ${sha}: the server refused the range from ${have}; restarting from zero next time`);
      }
      if (res.statusCode !== 200 && res.statusCode !== 206) {
        res.resume();
        throw new Error(`artifact ${sha}: GET answered HTTP ${res.statusCode}`);
      }
      let append = false;
      if (res.statusCode === 206) {
        const m = /^bytes (\d+)-/.exec(res.headers['content-range'] ?? '');
        if (!m || Number(m[1]) !== have) {
          res.destroy();
          throw new Error(`artifact ${sha}: asked for bytes from ${have}, got ${res.headers['content-range']}`);
        }
        append = true;
        this.counters.resumedDownloads++;
        await pipeline(createReadStream(part, { end: have - 1, highWaterMark: 1024 * 1024 }), new Writable({
          write(chunk: Buffer, _enc, done) { hash.update(chunk); written += chunk.length; done(); },
        }));
      }
      const counters = this.counters;
      const tee = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          written += chunk.length;
          counters.downloadedBytes += chunk.length;
          done(null, chunk);
        },
      });
      await pipeline(res, tee, createWriteStream(part, { flags: append ? 'a' : 'w', highWaterMark: 1024 * 1024 }));
    } else {
      await pipeline(createReadStream(part, { highWaterMark: 1024 * 1024 }), new Writable({
        write(chunk: Buffer, _enc, done) { hash.update(chunk); written += chunk.length; done(); },
      }));
    }
    const fh = await open(part, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const got = (await stat(part)).size;
    const actual = hash.digest('hex');
    if (got !== size || written !== got || actual !== sha) {
      await rm(part, { force: true });
      throw new DigestMismatchError(`artifact ${sha}: downloaded ${got} bytes with sha256 ${actual}; expected ${size} bytes; discarded, will fetch again`);
    }
    await rename(part, this.pathOf(sha));
    await fsyncDir(this.verifiedDir);
    this.invalidate(sha);
    this.verified.set(sha, Promise.resolve(true));
    this.emit({ added: [sha], removed: [] });
  }

  /** Deletes verified and partial artifacts that `keep` does not name; returns what it removed. */
  async gc(keep: Set<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const f of await readdir(this.verifiedDir)) {
      if (keep.has(f) || this.inflight.has(f)) continue;
      await rm(join(this.verifiedDir, f), { force: true });
      this.invalidate(f);
      removed.push(f);
    }
    this.emit({ added: [], removed: [...removed] });
    for (const f of await readdir(this.partialDir)) {
      const sha = f.replace(/\.part$/, '');
      if (keep.has(sha) || this.inflight.has(sha)) continue;
      await rm(join(this.partialDir, f), { force: true });
      removed.push(f);
    }
    return removed;
  }

  async stats(): Promise<CacheStats> {
    const sizes = async (d: string) => Promise.all((await readdir(d)).map(async (f) => (await stat(join(d, f)).catch(() => null))?.size ?? 0));
    const v = await sizes(this.verifiedDir);
    const p = await sizes(this.partialDir);
    return {
      entries: v.length,
      bytes: v.reduce((a, b) => a + b, 0),
      partialEntries: p.length,
      partialBytes: p.reduce((a, b) => a + b, 0),
      verifiedThisRun: [...this.verified.keys()].length,
      ...this.counters,
    };
  }
}
