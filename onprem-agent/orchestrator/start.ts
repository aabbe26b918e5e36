/**
 * What `skyboot-agent run` starts from this module:
 * - the power runner (claims the site's power requests, runs them on the BMCs, reports results
 *   durably), only with a cloud configured: without one there is nothing to claim;
 * - the iSCSI sessions report on a timer when iSCSI is on: logins and logouts do not wait for a
 *   snapshot change, and the iSCSI service sends an observation only when the set changed.
 * (`skyboot-agent discover` hands its reports to the running agent over the admin socket.)
 */
import type { IscsiService } from '../iscsi/service.js';
import type { CloudClient } from '../sync/cloudClient.js';
import type { BootTimeline } from '../timeline/bootTimeline.js';
import { PowerRunner, type PowerRunnerOptions } from './powerRunner.js';
import { startTicker, type Ticker } from './ticker.js';

export const POWER_INTERVAL_ENV = 'SKYBOOT_AGENT_POWER_INTERVAL';
export const ISCSI_REPORT_INTERVAL_ENV = 'SKYBOOT_AGENT_ISCSI_REPORT_INTERVAL';
export const DEFAULT_ISCSI_REPORT_INTERVAL_MS = 15_000;

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
  /** The agent's boot timeline: the rollout waits on it for each node's heartbeat. */
  timeline?: BootTimeline;
}

export async function startOrchestrator(opts: OrchestratorOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningOrchestrator> {
  const { client, iscsi, iscsiReportIntervalMs, timeline: _timeline, ...power } = opts;
  const runner = client ? await new PowerRunner({ intervalMs: intervalFromEnv(env, POWER_INTERVAL_ENV), ...power, client }).init() : null;
  runner?.start();
  const tickers: Ticker[] = [];
  if (iscsi) {
    const ms = iscsiReportIntervalMs ?? intervalFromEnv(env, ISCSI_REPORT_INTERVAL_ENV) ?? DEFAULT_ISCSI_REPORT_INTERVAL_MS;
    tickers.push(startTicker('iscsi sessions report', ms, () => iscsi.reportSessions()));
  }
  return {
    power: runner,
    async stop() {
      await Promise.all([runner?.stop(), ...tickers.map((t) => t.stop())]);
    },
  };
}
