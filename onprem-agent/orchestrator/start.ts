/**
 * What `skyboot-agent run` starts from this module: the power runner (claims the site's power
 * requests, runs them on the BMCs, reports results durably). Only with a cloud configured: without
 * one there is nothing to claim.
 */
import type { CloudClient } from '../sync/cloudClient.js';
import { PowerRunner, type PowerRunnerOptions } from './powerRunner.js';

export const POWER_INTERVAL_ENV = 'SKYBOOT_AGENT_POWER_INTERVAL';

export interface RunningOrchestrator {
  power: PowerRunner;
  stop(): Promise<void>;
}

/** Interval in seconds from the environment, else the runner's default (5 s). */
function intervalFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env[POWER_INTERVAL_ENV];
  if (raw === undefined || raw === '') return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`${POWER_INTERVAL_ENV}: "${raw}" is not a positive number of seconds`);
  return Math.round(s * 1000);
}

export async function startOrchestrator(opts: { dataDir: string; client: CloudClient } & Partial<PowerRunnerOptions>, env: NodeJS.ProcessEnv = process.env): Promise<RunningOrchestrator> {
  const power = await new PowerRunner({ intervalMs: intervalFromEnv(env), ...opts }).init();
  power.start();
  return { power, stop: () => power.stop() };
}
