/**
 * Coverage guidance from V8's own block coverage, read in-process through node:inspector
 * (Jazzer.js needs a native build, which this machine's npm does not run). Binary precise
 * coverage resets on every take, so each take says which blocks ran since the previous one.
 *
 * A "code path" here is one V8 coverage block (function body, branch arm, loop body, …) of a
 * target's own source files, keyed by file, function and source range. V8 reports a block only
 * where its count differs from the enclosing one, so a block first shows up as not-run; it is
 * counted once a later take finds the range inside a run range and not reported as not-run.
 */
import { Session } from 'node:inspector';

interface V8Range { startOffset: number; endOffset: number; count: number }
interface V8Function { functionName: string; ranges: V8Range[] }
interface V8Script { url: string; functions: V8Function[] }

export class BlockCoverage {
  private readonly session = new Session();
  /** Every block range ever reported, per file+function. */
  private readonly known = new Map<string, Set<string>>();
  readonly covered = new Set<string>();

  /** Call before the target modules load, so their functions are compiled with block counters. */
  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.post('Profiler.disable');
    this.session.disconnect();
  }

  private post(method: string, params?: object): unknown {
    // The in-thread session answers synchronously; the check keeps that assumption honest.
    let result: unknown;
    let done = false;
    this.session.post(method, params, (err, res) => {
      if (err) throw err;
      result = res;
      done = true;
    });
    if (!done) throw new Error(`inspector ${method} did not answer synchronously`);
    return result;
  }

  /**
   * Takes coverage since the last take; returns the blocks of `files` covered for the first
   * time. `commit: false` leaves them uncounted (the engine commits them once it knows which
   * case reached them).
   */
  take(files: readonly string[], commit = true): Set<string> {
    const { result } = this.post('Profiler.takePreciseCoverage') as { result: V8Script[] };
    const fresh = new Set<string>();
    for (const script of result) {
      if (!files.some((f) => script.url.includes(f))) continue;
      for (const fn of script.functions) {
        const top = fn.ranges[0];
        if (!top || top.count === 0) continue;
        const fnKey = `${script.url}#${fn.functionName}@${top.startOffset}`;
        let known = this.known.get(fnKey);
        if (!known) this.known.set(fnKey, (known = new Set()));
        for (const r of fn.ranges) known.add(`${r.startOffset}-${r.endOffset}`);
        for (const k of known) {
          const key = `${fnKey}:${k}`;
          if (this.covered.has(key)) continue;
          const [s, e] = k.split('-').map(Number) as [number, number];
          // The innermost reported range holding this block gives its count in this take.
          let count = top.count;
          let width = Infinity;
          for (const r of fn.ranges) {
            if (r.startOffset <= s && r.endOffset >= e && r.endOffset - r.startOffset < width) {
              width = r.endOffset - r.startOffset;
              count = r.count;
            }
          }
          if (count > 0) fresh.add(key);
        }
      }
    }
    if (commit) this.commit(fresh);
    return fresh;
  }

  commit(keys: Iterable<string>): void {
    for (const k of keys) this.covered.add(k);
  }

  /** Distinct covered blocks in `files`. */
  count(files: readonly string[]): number {
    let n = 0;
    for (const k of this.covered) if (files.some((f) => k.split('#')[0]!.includes(f))) n++;
    return n;
  }
}
