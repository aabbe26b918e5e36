/**
 * What `skyboot-agent run` starts from this module:
 * - the power runner (claims the site's power requests, runs them on the BMCs, reports results
 *   durably), only with a cloud configured: without one there is nothing to claim;
 * - the iSCSI sessions report on a timer when iSCSI is on: logins and logouts do not wait for a
 *   snapshot change, and the iSCSI service sends an observation only when the set changed.
 * - the rollout operator (boot sessions: claims nodes under the window, boots, validates, rolls
 *   back, reports), with a cloud and the serving parts it needs (snapshot index, boot overrides, timeline);
 * (`skyboot-agent discover` hands its reports to the running agent over the admin socket.)
 */
import type { IscsiService } from '../iscsi/service.js';
import type { CloudClient } from '../sync/cloudClient.js';
import { PowerRunner, type PowerRunnerOptions } from './powerRunner.js';
import { startTicker, type Ticker } from './ticker.js';
import { createNoneWorkload } from './workload/noneWorkload.js';
import { RolloutOperator, type RolloutOperatorOptions, type RolloutWorkload } from './rollout/operator.js';

export const POWER_INTERVAL_ENV = 'SKYBOOT_AGENT_POWER_INTERVAL';
export const ISCSI_REPORT_INTERVAL_ENV = 'SKYBOOT_AGENT_ISCSI_REPORT_INTERVAL';
export const DEFAULT_ISCSI_REPORT_INTERVAL_MS = 15_000;

export const ROLLOUT_INTERVAL_ENV = 'SKYBOOT_AGENT_ROLLOUT_INTERVAL';

export interface RunningOrchestrator {
  power: PowerRunner | null;
  rollout: RolloutOperator | null;
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
  /** What the rollout operator needs from the rest of the agent (workload: the configured manager, default none); without it no rollout runs. */
  rollout?: Pick<RolloutOperatorOptions, 'index' | 'overrides' | 'timeline' | 'stageArtifacts'> & { workload?: RolloutWorkload };
}

export async function startOrchestrator(opts: OrchestratorOptions, env: NodeJS.ProcessEnv = process.env): Promise<RunningOrchestrator> {
  const { client, iscsi, iscsiReportIntervalMs, rollout: parts, ...power } = opts;
  const runner = client ? await new PowerRunner({ intervalMs: intervalFromEnv(env, POWER_INTERVAL_ENV), ...power, client }).init() : null;
  runner?.start();
  const rollout =
    client && runner && parts
      ? await new RolloutOperator({
          ...parts,
          workload: parts.workload ?? createNoneWorkload(),
          client,
          dataDir: opts.dataDir,
          power: (req) => runner.execute(req),
          intervalMs: intervalFromEnv(env, ROLLOUT_INTERVAL_ENV),
        }).init()
      : null;
  rollout?.start();
  const tickers: Ticker[] = [];
  if (iscsi) {
    const ms = iscsiReportIntervalMs ?? intervalFromEnv(env, ISCSI_REPORT_INTERVAL_ENV) ?? DEFAULT_ISCSI_REPORT_INTERVAL_MS;
    tickers.push(startTicker('iscsi sessions report', ms, () => iscsi.reportSessions()));
  }
  return {
    power: runner,
    rollout,
    async stop() {
      // The rollout first: its in-flight nodes still need the BMCs.
      await rollout?.stop();
      await Promise.all([runner?.stop(), ...tickers.map((t) => t.stop())]);
    },
  };
}
