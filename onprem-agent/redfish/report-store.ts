/**
 * Where discovery results live in the agent's data dir: the last report (the xname → BMC map
 * that power and boot commands use, and the base for the next run's diff), and the interim
 * file sink used until the durable outbox is wired in.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { join } from 'node:path';
import type { ObservationSink } from '../outbox/sink.js';
import type { DiscoveryReport } from './types.js';

export function discoveryDir(dataDir: string): string {
  return join(dataDir, 'discovery');
}

export function lastReportPath(dataDir: string): string {
  return join(discoveryDir(dataDir), 'last-report.json');
}

const writeAtomic = (file: string, text: string): Promise<void> => writeFileAtomic(file, text, 0o600);

export async function saveLastReport(dataDir: string, report: DiscoveryReport): Promise<string> {
  await mkdir(discoveryDir(dataDir), { recursive: true });
  const file = lastReportPath(dataDir);
  await writeAtomic(file, JSON.stringify(report, null, 2) + '\n');
  return file;
}

/** What `updateDiscoveryMap` did to the stored map. */
export type MapUpdate =
  | { written: true; file: string; carriedOver: string[]; pruned: string[] }
  | { written: false; file: string; reason: string; kept: number };

/**
 * The stored map (the xname → BMC map that power uses) after a scan: BMCs the scan reached are
 * updated; BMCs it did not reach stay, listed in `carriedOver`, unless `prune` says the scan
 * covered the whole site. A scan that reached no BMC at all (a mistyped --range, a dead
 * network) never touches the map. A BMC is the same one when its xname, identity or address
 * matches.
 */
export async function updateDiscoveryMap(dataDir: string, report: DiscoveryReport, opts: { prune?: boolean } = {}): Promise<MapUpdate> {
  const file = lastReportPath(dataDir);
  const previous = await loadLastReport(dataDir);
  const kept = previous?.redfishEndpoints.length ?? 0;
  if (report.redfishEndpoints.length === 0 && kept > 0) {
    return { written: false, file, reason: `the scan of ${report.ranges.join(' ')} reached no BMC (${report.unreachable.length} unreachable)`, kept };
  }
  const merged: DiscoveryReport = { ...report, carriedOver: [] };
  const pruned: string[] = [];
  if (previous) {
    const seen = (e: DiscoveryReport['redfishEndpoints'][number]): boolean => report.redfishEndpoints.some((n) =>
      n.xname === e.xname || (e.identity && n.identity === e.identity) || (n.host === e.host && n.port === e.port));
    const since = new Map((previous.carriedOver ?? []).map((c) => [c.xname, c.lastSeenAt]));
    const macs = new Set(report.interfaces.map((i) => i.mac));
    const xnames = new Set(report.components.map((c) => c.xname));
    for (const e of previous.redfishEndpoints) {
      if (seen(e)) continue;
      if (opts.prune) {
        pruned.push(e.xname);
        continue;
      }
      const owned = (x: string): boolean => x === e.xname || e.systems.some((s) => s.xname === x);
      // Another BMC took one of its names or MACs in this scan: the new finding wins.
      if ([...e.systems.map((s) => s.xname), e.xname].some((x) => xnames.has(x))) continue;
      merged.redfishEndpoints.push(e);
      merged.components.push(...previous.components.filter((c) => owned(c.xname)));
      merged.interfaces.push(...previous.interfaces.filter((i) => owned(i.ownerXName) && !macs.has(i.mac)));
      merged.hardware.push(...previous.hardware.filter((h) => owned(h.xname)));
      merged.carriedOver!.push({ xname: e.xname, host: e.host, port: e.port, lastSeenAt: since.get(e.xname) ?? previous.finishedAt });
    }
  }
  await mkdir(discoveryDir(dataDir), { recursive: true });
  await writeAtomic(file, JSON.stringify(merged, null, 2) + '\n');
  return { written: true, file, carriedOver: merged.carriedOver!.map((c) => c.xname), pruned };
}

export async function loadLastReport(dataDir: string): Promise<DiscoveryReport | null> {
  try {
    return JSON.parse(await readFile(lastReportPath(dataDir), 'utf8')) as DiscoveryReport;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Same inventory content → same key, so a re-sent batch is applied once. Timings are left out. */
export function reportIdempotencyKey(report: DiscoveryReport): string {
  const { redfishEndpoints, components, interfaces, hardware } = report;
  const stable = JSON.stringify({ redfishEndpoints: redfishEndpoints.map(({ requests: _r, ...e }) => e), components, interfaces, hardware });
  return `redfish-discovery-${createHash('sha256').update(stable).digest('hex').slice(0, 32)}`;
}

/**
 * Interim sink: writes each observation as a file under discovery/, for the outbox (or an
 * operator) to pick up. It sends nothing to the cloud.
 */
export class DiscoveryFileSink implements ObservationSink {
  readonly written: string[] = [];

  constructor(private readonly dataDir: string) {}

  async enqueue(kind: string, payload: unknown, idempotencyKey: string): Promise<void> {
    await mkdir(discoveryDir(this.dataDir), { recursive: true });
    const file = join(discoveryDir(this.dataDir), `${idempotencyKey}.json`);
    await writeAtomic(file, JSON.stringify({ kind, idempotencyKey, payload }, null, 2) + '\n');
    this.written.push(file);
  }
}
