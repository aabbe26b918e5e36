/**
 * Where discovery results live in the agent's data dir: the last report (the xname → BMC map
 * that power and boot commands use, and the base for the next run's diff), and the interim
 * file sink used until the durable outbox is wired in.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { join, resolve } from 'node:path';
import type { ObservationSink } from '../outbox/sink.js';
import type { DiscoveryReport } from './types.js';

export const DATA_DIR_ENV = 'SKYBOOT_AGENT_DATA_DIR';

/** `--data-dir`, else $SKYBOOT_AGENT_DATA_DIR, else ./.skyboot/agent. */
export function resolveDataDir(explicit?: string): string {
  return resolve(explicit ?? process.env[DATA_DIR_ENV] ?? '.skyboot/agent');
}

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
