/**
 * How `skyboot-agent discover` hands a report to an agent that is already running. The command
 * writes the entry into the agent's outbox directory, but a running outbox only knows the entries
 * it loaded at start (and its own). So the command also leaves a copy under
 * `<dataDir>/orchestrator/handoff/`; the running agent enqueues each copy into its outbox (a key
 * that is already pending is a no-op) and removes it. The outbox file the command wrote is then
 * delivered again at the agent's next start and answered DUPLICATE.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../logger.js';
import type { ObservationSink } from '../outbox/sink.js';
import { TEMP_FILE, writeFileAtomic } from '../sync/atomicFile.js';

export interface HandoffEntry {
  kind: string;
  idempotencyKey: string;
  payload: unknown;
}

export const handoffDir = (dataDir: string): string => join(dataDir, 'orchestrator', 'handoff');

const KEY = /^[\w.:-]{1,128}$/;

export async function writeHandoff(dataDir: string, entry: HandoffEntry): Promise<void> {
  if (!KEY.test(entry.idempotencyKey)) throw new Error(`handoff: idempotency key "${entry.idempotencyKey}" must be 1-128 of letters, digits, _ . : -`);
  await mkdir(handoffDir(dataDir), { recursive: true });
  await writeFileAtomic(join(handoffDir(dataDir), `${entry.idempotencyKey}.json`), JSON.stringify(entry), 0o600);
}

/** Enqueues every handed-off entry into `sink` and removes it; returns how many. */
export async function adoptHandoffs(dataDir: string, sink: ObservationSink): Promise<number> {
  const dir = handoffDir(dataDir);
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  let adopted = 0;
  for (const name of names) {
    if (TEMP_FILE.test(name) || !name.endsWith('.json')) continue;
    const file = join(dir, name);
    let entry: HandoffEntry;
    try {
      entry = JSON.parse(await readFile(file, 'utf8')) as HandoffEntry;
      if (typeof entry.kind !== 'string' || typeof entry.idempotencyKey !== 'string' || !KEY.test(entry.idempotencyKey)) throw new Error('kind or idempotencyKey missing or invalid');
    } catch (err) {
      // Nothing can ever enqueue it; the command's outbox copy is still delivered at the next start.
      log.error({ file, err: (err as Error).message }, 'unusable handoff entry removed');
      await rm(file, { force: true });
      continue;
    }
    // A failure here (disk full) leaves the copy for the next round.
    await sink.enqueue(entry.kind, entry.payload, entry.idempotencyKey);
    await rm(file, { force: true });
    adopted++;
  }
  return adopted;
}
