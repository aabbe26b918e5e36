/**
 * The power runner's durable journal: one file per claimed request under
 * `<dataDir>/orchestrator/power/`, written atomically. A request is journalled as `claimed` before
 * any BMC is touched and as `ran` (with its results) before the completion is sent, and the file
 * goes only once the cloud has recorded the completion. So a cloud outage (or an agent restart)
 * between running and reporting loses nothing: the completion is sent again, and the cloud
 * accepts a retry with the same results. The outbox cannot carry it: it delivers observations
 * through `reportObservations`, not arbitrary mutations.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../logger.js';
import { fsyncDir, TEMP_FILE, writeFileAtomic } from '../sync/atomicFile.js';

export const CLOUD_POWER_ACTIONS = ['ON', 'OFF', 'SOFT_OFF', 'RESET', 'CYCLE', 'STATUS', 'PXE_ONCE'] as const;
export type CloudPowerAction = (typeof CLOUD_POWER_ACTIONS)[number];

/** One node's result in the shape of `PowerResultInput`. */
export interface PowerResultInput {
  xname: string;
  ok: boolean;
  powerState: string | null;
  bootOverride: string | null;
  error: string | null;
}

export interface JournalEntry {
  id: string;
  action: CloudPowerAction;
  xnames: string[];
  claimedAt: string;
  state: 'claimed' | 'ran';
  results: PowerResultInput[] | null;
}

/** Request ids are the cloud's UUIDs; anything else must not become a path. */
const ID = /^[\w-]{1,64}$/;

export class PowerJournal {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'orchestrator', 'power');
  }

  private file(id: string): string {
    if (!ID.test(id)) throw new Error(`power request id "${id}" is not a plain id`);
    return join(this.dir, `${id}.json`);
  }

  async init(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    for (const f of await readdir(this.dir)) if (TEMP_FILE.test(f)) await rm(join(this.dir, f), { force: true });
    return this;
  }

  async write(entry: JournalEntry): Promise<void> {
    await writeFileAtomic(this.file(entry.id), JSON.stringify(entry), 0o600);
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
    await fsyncDir(this.dir);
  }

  /** Every journalled request, oldest claim first; unreadable files are logged and left. */
  async list(): Promise<JournalEntry[]> {
    const out: JournalEntry[] = [];
    for (const f of (await readdir(this.dir)).filter((n) => n.endsWith('.json'))) {
      try {
        out.push(JSON.parse(await readFile(join(this.dir, f), 'utf8')) as JournalEntry);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        log.error({ file: f, err: (err as Error).message }, 'unreadable power journal entry left in place');
      }
    }
    return out.sort((a, b) => a.claimedAt.localeCompare(b.claimedAt) || a.id.localeCompare(b.id));
  }
}
