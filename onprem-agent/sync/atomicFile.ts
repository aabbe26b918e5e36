/**
 * The agent's one way to write a file that must survive a crash: write a temp file in the same
 * directory, fsync it, rename it over the target (or link it, for create-only), fsync the
 * directory. rename(2) and link(2) within one file system are atomic, so a crash at any instant
 * leaves either the old or the new file, never a torn one; the fsyncs make the same hold across a
 * power loss. Every module writes through these helpers; none hand-rolls temp + rename.
 */
import { link, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes `data` to a fresh, fsynced temp file beside `path`; returns the temp file's path. */
async function writeTemp(path: string, data: string | Uint8Array, mode: number): Promise<string> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  return tmp;
}

/** Replaces `path` with `data`, crash-safely (see the file comment). */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = await writeTemp(path, data, mode);
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/**
 * Creates `path` with `data` only if it does not exist yet; returns false (and changes nothing)
 * when it does. Unlike open(O_EXCL) + write, a reader never sees the file empty or half written,
 * and a crash never leaves a torn one: the complete temp file is linked into place.
 */
export async function createFileExclusive(path: string, data: string | Uint8Array, mode = 0o644): Promise<boolean> {
  const tmp = await writeTemp(path, data, mode);
  try {
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
  await fsyncDir(dirname(path));
  return true;
}

/**
 * Temp files a crash left behind (`.<name>.<pid>.<rand>.tmp`). Only the data dir's lock holder
 * may delete them: another process's temp file may be an enqueue still in flight.
 */
export const TEMP_FILE = /^\..+\.\d+\.[0-9a-f]{8}\.tmp$/;
