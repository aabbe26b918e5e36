/**
 * When each managed target was first seen unreferenced. Kept in the data dir so an agent restart
 * does not restart the grace period (nor end it early).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { join } from 'node:path';

export const UNREFERENCED_FILE = 'iscsi-unreferenced.json';

export async function loadUnreferencedSince(dataDir: string): Promise<Record<string, string>> {
  try {
    const parsed = JSON.parse(await readFile(join(dataDir, UNREFERENCED_FILE), 'utf8')) as unknown;
    if (!parsed || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string' && !Number.isNaN(Date.parse(v))));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
}

export async function saveUnreferencedSince(dataDir: string, since: Record<string, string>): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const path = join(dataDir, UNREFERENCED_FILE);
  await writeFileAtomic(path, `${JSON.stringify(since, null, 2)}\n`);
}
