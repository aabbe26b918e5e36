/**
 * A durable journal of in-flight work: one JSON file per entry under `<dataDir>/orchestrator/<name>/`,
 * each written atomically (sync/atomicFile.ts) and removed (with the directory fsynced) only once
 * the cloud has recorded the outcome. The power runner and the rollout operator both keep theirs here.
 */
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { log } from '../logger.js';
import { fsyncDir, TEMP_FILE, writeFileAtomic } from '../sync/atomicFile.js';

/** Entry ids become file names: nothing but plain ids. */
const ID = /^[\w.-]{1,128}$/;

export class FileJournal<T> {
  readonly dir: string;

  /** `idOf` names an entry's file; `order` sorts `list()`. */
  constructor(dataDir: string, name: string, private readonly idOf: (entry: T) => string, private readonly order: (a: T, b: T) => number) {
    this.dir = join(dataDir, 'orchestrator', name);
  }

  private file(id: string): string {
    if (!ID.test(id) || id.startsWith('.')) throw new Error(`journal id "${id}" is not a plain id`);
    return join(this.dir, `${id}.json`);
  }

  async init(): Promise<this> {
    await mkdir(this.dir, { recursive: true });
    for (const f of await readdir(this.dir)) if (TEMP_FILE.test(f)) await rm(join(this.dir, f), { force: true });
    return this;
  }

  async write(entry: T): Promise<void> {
    await writeFileAtomic(this.file(this.idOf(entry)), JSON.stringify(entry), 0o600);
  }

  async remove(id: string): Promise<void> {
    await rm(this.file(id), { force: true });
    await fsyncDir(this.dir);
  }

  /** Every entry in `order`; unreadable files are logged and left. */
  async list(): Promise<T[]> {
    const out: T[] = [];
    for (const f of (await readdir(this.dir)).filter((n) => n.endsWith('.json'))) {
      try {
        out.push(JSON.parse(await readFile(join(this.dir, f), 'utf8')) as T);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        log.error({ dir: this.dir, file: f, err: (err as Error).message }, 'unreadable journal entry left in place');
      }
    }
    return out.sort(this.order);
  }
}
