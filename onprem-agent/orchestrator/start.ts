/**
 * What `skyboot-agent run` starts from this module: the power runner (claims the site's power
 * requests, runs them on the BMCs, reports results durably; only with a cloud configured, since
 * without one there is nothing to claim) and the iSCSI sessions timer (when iSCSI is on).
 */
import type { IscsiService } from '../iscsi/service.js';
import type { CloudClient } from '../sync/cloudClient.js';
import { startIscsiSessionsTimer } from './iscsiSessionsTimer.js';
import { PowerRunner, type PowerRunnerOptions } from './powerRunner.js';

export const POWER_INTERVAL_ENV = 'SKYBOOT_AGENT_POWER_INTERVAL';
export const ISCSI_REPORT_INTERVAL_ENV = 'SKYBOOT_AGENT_ISCSI_REPORT_INTERVAL';

export interface RunningOrchestrator {
  power: PowerRunner | null;
  stop(): Promise<void>;
}

/** An interval in seconds from the environment, in ms; undefined when unset. */
function intervalFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`${name}: "${raw}" is not a positive number of seconds`);
  return Math.round(s * 1000);
}

export interface OrchestratorOptions extends Partial<Omit<PowerRunnerOptions, 'client' | 'dataDir'>> {
  dataDir: string;
  client: CloudClient | null;
  iscsi?: Pick<IscsiService, 'reportSessions'> | null;
  iscsiReportIntervalMs?: number;
}

export async function startOrchestrator(opts: OrchestratorOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningOrchestrator> {
  const { client, iscsi, iscsiReportIntervalMs, ...power } = opts;
  const runner = client ? await new PowerRunner({ intervalMs: intervalFromEnv(env, POWER_INTERVAL_ENV), ...power, client }).init() : null;
  runner?.start();
  const sessions = iscsi ? startIscsiSessionsTimer(iscsi, iscsiReportIntervalMs ?? intervalFromEnv(env, ISCSI_REPORT_INTERVAL_ENV)) : null;
  return {
    power: runner,
    async stop() {
      await Promise.all([runner?.stop(), sessions?.stop()]);
    },
  };
}
