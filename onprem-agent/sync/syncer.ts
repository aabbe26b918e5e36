/**
 * The sync loop: pull the site snapshot (incrementally: `sinceRevision` = the stored revision),
 * store it atomically, then bring the artifact cache in line (download what is missing, GC what
 * no longer is referenced). While the cloud is unreachable the loop backs off and the stored
 * snapshot keeps serving; the first successful pull after an outage catches up in one step.
 */
import { log } from '../logger.js';
import type { ArtifactCache } from '../cache/artifactCache.js';
import { CloudUnreachableError, type CloudClient } from './cloudClient.js';
import { LinkStatus, backoffMs, type LinkState } from './linkStatus.js';
import { SnapshotIndex, loadSnapshot, removeStaleTempFiles, saveSnapshot } from './snapshotStore.js';
import { resolveSnapshot, type SnapshotTransfer } from './snapshotTransfer.js';

export interface SyncerOptions {
  intervalMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Parallel artifact downloads. */
  downloadConcurrency?: number;
  onSnapshot?: (index: SnapshotIndex) => void | Promise<void>;
  onLinkUp?: () => void;
  /**
   * Artifacts GC must keep although the snapshot no longer lists them: what the iSCSI target
   * still exports (grace period, logged-in nodes). Asked at every GC; a failure skips that GC.
   */
  gcProtected?: () => Promise<Iterable<string>>;
}

export interface SyncStatus {
  link: LinkState;
  revision: number | null;
  contentHash: string | null;
  storedAt: string | null;
  lastPullAt: string | null;
  lastPullUnchanged: boolean | null;
  /** How the last changed pull got its content (deltas, whole, or only new URLs) and the bytes it fetched. */
  lastTransfer: SnapshotTransfer | null;
  pulls: number;
  artifacts: { referenced: number; cached: number; missing: string[]; lastErrors: Record<string, string> };
}

export class Syncer {
  readonly link = new LinkStatus();
  private current: SnapshotIndex | null = null;
  private running = false;
  private loop: Promise<void> | null = null;
  private sleeper: (() => void) | null = null;
  private lastPullAt: string | null = null;
  private lastPullUnchanged: boolean | null = null;
  private pulls = 0;
  private lastTransfer: SnapshotTransfer | null = null;
  private missing: string[] = [];
  private artifactErrors: Record<string, string> = {};
  /** The pull in progress (or the last one): the next waits for it. */
  private pulling: Promise<unknown> = Promise.resolve();

  constructor(readonly dataDir: string, private readonly client: CloudClient, readonly cache: ArtifactCache, private readonly opts: SyncerOptions = {}) {}

  /** Loads the stored snapshot (if any), so services can answer before the first pull. */
  async init(): Promise<SnapshotIndex | null> {
    await removeStaleTempFiles(this.dataDir);
    const stored = await loadSnapshot(this.dataDir);
    if (stored) {
      this.current = new SnapshotIndex(stored);
      await this.opts.onSnapshot?.(this.current);
    }
    return this.current;
  }

  get index(): SnapshotIndex | null {
    return this.current;
  }

  private urlsUsable(): boolean {
    const soon = Date.now() + 5 * 60_000;
    return (this.current?.stored.snapshot.artifacts ?? []).every((a) => a.status !== 'READY' || (a.url && a.urlExpiresAt && Date.parse(a.urlExpiresAt) > soon));
  }

  /**
   * One pull + cache pass. Throws when the cloud cannot be reached or refuses. Calls run one after
   * the other (the loop, `skyboot-agent` asking, the rollout staging artifacts): two pulls at once
   * would both ask with the same revision and both store what they got, the later one last.
   */
  syncOnce(): Promise<{ changed: boolean; revision: number }> {
    const run = this.pulling.catch(() => undefined).then(() => this.pullOnce());
    this.pulling = run;
    return run;
  }

  private async pullOnce(): Promise<{ changed: boolean; revision: number }> {
    // With artifacts still missing and their URLs stale, ask for the whole snapshot (fresh URLs).
    const since = this.current && (this.missing.length === 0 || this.urlsUsable()) ? this.current.stored.revision : null;
    let answer;
    try {
      answer = await this.client.siteSnapshot(since);
    } catch (err) {
      this.link.failed(err as Error);
      throw err;
    }
    const wasDown = this.link.get().up === false;
    this.link.ok();
    if (wasDown) this.opts.onLinkUp?.();
    this.pulls++;
    this.lastPullAt = new Date().toISOString();
    this.lastPullUnchanged = answer.unchanged;
    let changed = false;
    if (!answer.unchanged) {
      let resolved;
      try {
        resolved = await resolveSnapshot(answer, this.current?.stored.snapshot ?? null);
      } catch (err) {
        if (err instanceof CloudUnreachableError) this.link.failed(err);
        throw err;
      }
      const snap = resolved.snapshot;
      this.lastTransfer = resolved.transfer;
      changed = !this.current || this.current.stored.contentHash !== snap.contentHash || this.current.stored.revision !== snap.revision;
      const stored = await saveSnapshot(this.dataDir, snap);
      this.current = new SnapshotIndex(stored);
      if (changed) log.info({ revision: snap.revision, nodes: snap.nodes?.length ?? 0, artifacts: snap.artifacts?.length ?? 0, ...resolved.transfer }, 'snapshot stored');
      await this.opts.onSnapshot?.(this.current);
    }
    await this.reconcileCache();
    return { changed, revision: answer.revision };
  }

  /** Downloads missing READY artifacts, then removes what the snapshot no longer references. */
  async reconcileCache(): Promise<void> {
    if (!this.current) return;
    const wanted = (this.current.stored.snapshot.artifacts ?? []).filter((a) => a.status === 'READY');
    const queue = [...wanted];
    const errors: Record<string, string> = {};
    const worker = async () => {
      for (let a = queue.shift(); a; a = queue.shift()) {
        if (await this.cache.has(a.sha256)) continue;
        if (!a.url) {
          errors[a.sha256] = 'no download URL in the snapshot';
          continue;
        }
        try {
          await this.cache.ensure(a.sha256, a.size, a.url);
        } catch (err) {
          errors[a.sha256] = (err as Error).message;
          log.warn({ sha256: a.sha256, err: (err as Error).message }, 'artifact download failed; retried on the next pass');
        }
      }
    };
    await Promise.all(Array.from({ length: this.opts.downloadConcurrency ?? 2 }, worker));
    this.artifactErrors = errors;
    this.missing = [];
    for (const a of wanted) if (!(await this.cache.has(a.sha256))) this.missing.push(a.sha256);
    const keep = new Set(this.current.referenced());
    if (this.opts.gcProtected) {
      let held: Iterable<string>;
      try {
        held = await this.opts.gcProtected();
      } catch (err) {
        // Not knowing what is exported, removing nothing is the only safe answer.
        log.warn({ err: (err as Error).message }, 'artifact GC skipped: cannot tell which artifacts are still exported');
        return;
      }
      for (const sha of held) keep.add(sha);
    }
    const removed = await this.cache.gc(keep);
    if (removed.length) log.info({ removed }, 'unreferenced artifacts removed');
  }

  /** The background loop: every intervalMs when the cloud answers, with backoff while it does not. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let delay = this.opts.intervalMs ?? 30_000;
        try {
          await this.syncOnce();
          if (this.missing.length) delay = Math.min(delay, 5_000);
        } catch (err) {
          const failures = this.link.get().consecutiveFailures;
          delay = backoffMs(Math.max(1, failures), this.opts.baseDelayMs ?? 1000, this.opts.maxDelayMs ?? Math.max(60_000, delay));
          const level = err instanceof CloudUnreachableError ? 'warn' : 'error';
          log[level]({ err: (err as Error).message, retryInMs: delay }, 'snapshot pull failed; serving the stored snapshot');
        }
        if (!this.running) break;
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { this.sleeper = null; resolve(); }, delay);
          this.sleeper = () => { clearTimeout(t); this.sleeper = null; resolve(); };
        });
      }
    })();
  }

  /** Pull now instead of at the next tick. */
  wake(): void {
    this.sleeper?.();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.sleeper?.();
    await this.loop;
  }

  status(): SyncStatus {
    const s = this.current?.stored;
    return {
      link: this.link.get(),
      revision: s?.revision ?? null,
      contentHash: s?.contentHash ?? null,
      storedAt: s?.storedAt ?? null,
      lastPullAt: this.lastPullAt,
      lastPullUnchanged: this.lastPullUnchanged,
      lastTransfer: this.lastTransfer,
      pulls: this.pulls,
      artifacts: {
        referenced: this.current?.referenced().size ?? 0,
        cached: (this.current?.referenced().size ?? 0) - this.missing.length,
        missing: [...this.missing],
        lastErrors: { ...this.artifactErrors },
      },
    };
  }
}
