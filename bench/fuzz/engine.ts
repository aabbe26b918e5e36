/**
 * The fuzz loop: mutate an input of the corpus, run it with a time check, and every batch take
 * V8 block coverage; a batch that reached new blocks is replayed case by case, and the cases
 * that reach them join the corpus (coverage guidance, as libFuzzer keeps inputs with new edges).
 */
import type { BlockCoverage } from './coverage.js';
import { Rng } from './mutate.js';
import type { FuzzTarget } from './targets.js';

export const HANG_MS = 1000;

export interface FuzzFinding {
  kind: 'crash' | 'hang';
  message: string;
  input: Buffer;
}

export interface FuzzResult {
  target: string;
  cases: number;
  crashes: number;
  hangs: number;
  /** Distinct coverage blocks of the target's files reached by the seeds alone, and by the whole run. */
  seedPaths: number;
  paths: number;
  corpus: number;
  seconds: number;
  casesPerSecond: number;
  /** Slowest case that finished within the limit. */
  slowestCaseMs: number;
  /** Cases over the limit once that ran within it when re-run (machine stalls, not hangs). */
  slowOnce: number;
  /** The target's own tally of how far cases got (seeds and replays included). */
  outcomes: Record<string, number>;
  findings: FuzzFinding[];
}

export interface FuzzOptions {
  cases: number;
  seed: number;
  coverage: BlockCoverage;
  /** Cases between coverage takes. */
  batch?: number;
  /** Findings kept with their inputs (all are counted). */
  keepFindings?: number;
  /** Stop early at this wall-clock time (ms since epoch); the result says how many cases ran. */
  deadline?: number;
  onProgress?: (done: number, paths: number) => void;
}

const timeout = (ms: number): { promise: Promise<'hang'>; cancel(): void } => {
  let t: NodeJS.Timeout | undefined;
  const promise = new Promise<'hang'>((r) => { t = setTimeout(() => r('hang'), ms); });
  return { promise, cancel: () => clearTimeout(t) };
};

export async function fuzz<T>(target: FuzzTarget<T>, opts: FuzzOptions): Promise<FuzzResult> {
  const rng = new Rng(opts.seed);
  const batchSize = opts.batch ?? 500;
  const keep = opts.keepFindings ?? 5;
  const cov = opts.coverage;
  const corpus: T[] = [];
  const findings: FuzzFinding[] = [];
  let crashes = 0;
  let hangs = 0;
  let slowest = 0;
  let slowOnce = 0;

  /** One timed execution: 'hang' when an async case has not settled within the limit. */
  const attempt = async (input: T): Promise<{ ms: number; hung: boolean; failure: unknown }> => {
    const t0 = performance.now();
    let hung = false;
    let failure: unknown;
    try {
      const r = target.run(input);
      if (r && typeof (r as Promise<void>).then === 'function') {
        const limit = timeout(HANG_MS);
        hung = (await Promise.race([(r as Promise<void>).then(() => 'ok' as const), limit.promise])) === 'hang';
        limit.cancel();
        // A hung case may still settle (or fail) later; it is counted once, as a hang.
        if (hung) (r as Promise<void>).catch(() => {});
      }
    } catch (err) {
      failure = err;
    }
    return { ms: performance.now() - t0, hung, failure };
  };

  /** Runs one input; returns false when it crashed or hung. */
  const exec = async (input: T): Promise<boolean> => {
    let { ms, hung, failure } = await attempt(input);
    if (failure === undefined && (hung || ms > HANG_MS)) {
      // On a shared 2-core machine a scheduler or GC stall can hold one case past the limit:
      // a hang is a case that is slow again on each of two re-runs.
      slowOnce++;
      for (let i = 0; i < 2 && failure === undefined && (hung || ms > HANG_MS); i++) ({ ms, hung, failure } = await attempt(input));
    }
    if (ms > slowest && !(hung || ms > HANG_MS)) slowest = ms;
    if (failure !== undefined && !target.expected(failure)) {
      crashes++;
      if (findings.length < keep) findings.push({ kind: 'crash', message: (failure as Error)?.stack ?? String(failure), input: target.serialize(input) });
      return false;
    }
    if (hung || ms > HANG_MS) {
      hangs++;
      if (findings.length < keep) findings.push({ kind: 'hang', message: `case took ${ms.toFixed(0)} ms on its third run (limit ${HANG_MS} ms)`, input: target.serialize(input) });
      return false;
    }
    return true;
  };

  cov.take(target.files); // drop what loading the modules ran
  for (const s of target.seeds) {
    await exec(s);
    corpus.push(s);
  }
  cov.take(target.files);
  const seedPaths = cov.count(target.files);

  const started = performance.now();
  let done = 0;
  let batch: T[] = [];
  const flush = async (): Promise<void> => {
    const fresh = cov.take(target.files, false);
    if (fresh.size > 0) {
      // Which cases of the batch reach the new blocks: replay them one at a time.
      for (const input of batch) {
        await exec(input);
        const hit = cov.take(target.files, false);
        let useful = false;
        for (const k of hit) if (fresh.has(k)) { useful = true; fresh.delete(k); }
        if (useful) corpus.push(input);
        cov.commit(hit);
        if (fresh.size === 0) break;
      }
      cov.commit(fresh);
    }
    batch = [];
  };
  while (done < opts.cases) {
    if (opts.deadline !== undefined && Date.now() > opts.deadline) break;
    // Recent corpus entries are the newest frontier: prefer them a little.
    const parent = rng.chance(0.3) && corpus.length > 8 ? corpus[corpus.length - 1 - rng.int(8)]! : rng.pick(corpus);
    const child = target.mutate(rng, parent, corpus);
    await exec(child);
    batch.push(child);
    done++;
    if (batch.length >= batchSize) {
      await flush();
      if (done % (batchSize * 200) === 0) opts.onProgress?.(done, cov.count(target.files));
    }
  }
  await flush();
  const seconds = (performance.now() - started) / 1000;
  return {
    target: target.name, cases: done, crashes, hangs, seedPaths, paths: cov.count(target.files), corpus: corpus.length,
    seconds, casesPerSecond: done / seconds, slowestCaseMs: slowest, slowOnce, outcomes: target.stats(), findings,
  };
}
