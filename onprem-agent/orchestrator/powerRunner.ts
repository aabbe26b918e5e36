/**
 * The power runner inside `skyboot-agent run`: claims the site's power requests from the cloud
 * (`claimPowerRequests`), carries them out on the BMCs through the Redfish module, and reports
 * one result per node (`completePowerRequest`). Every claimed request goes through the durable
 * journal, so results survive a cloud outage or a restart between running and reporting. While
 * the cloud is unreachable the loop backs off; requests wait in the cloud as PENDING.
 */
import type { Logger } from 'pino';
import { log as agentLog } from '../logger.js';
import { CredentialResolver, loadStoredCredentials } from '../redfish/credentials.js';
import { PinStore } from '../redfish/pins.js';
import { endpointMapFromReport, powerAction, type EndpointMap, type PowerActionName, type PowerOptions, type PowerResult } from '../redfish/power.js';
import { loadLastReport } from '../redfish/report-store.js';
import type { TlsPolicy } from '../redfish/transport.js';
import { CloudRequestError, CloudUnreachableError, type CloudClient } from '../sync/cloudClient.js';
import { backoffMs } from '../sync/linkStatus.js';
import { PowerJournal, type CloudPowerAction, type JournalEntry, type PowerResultInput } from './powerJournal.js';
import { RoundPause } from './ticker.js';

export const DEFAULT_POWER_INTERVAL_MS = 5_000;
/** Answers after which sending the same completion again cannot succeed. */
const FINAL_REFUSALS = new Set(['CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT']);

/** The cloud's PowerAction → the Redfish module's action name. */
export function mapAction(action: CloudPowerAction): PowerActionName {
  const map: Record<CloudPowerAction, PowerActionName> = {
    ON: 'on', OFF: 'off', SOFT_OFF: 'soft-off', RESET: 'reset', CYCLE: 'cycle', STATUS: 'status', PXE_ONCE: 'boot-pxe',
  };
  const name = map[action];
  if (!name) throw new Error(`power action "${String(action)}" is unknown to this agent`);
  return name;
}

export const noBmcError = (xname: string): string => `no discovered BMC for ${xname}: run skyboot-agent discover`;

/** The Redfish module's result in the shape `completePowerRequest` takes. */
export function toResultInput(r: PowerResult, action: CloudPowerAction): PowerResultInput {
  // boot-pxe reports the override it read back from the BMC.
  const bootOverride = action === 'PXE_ONCE' && r.ok ? (r.bootOverride ?? null) : null;
  return { xname: r.xname, ok: r.ok, powerState: r.powerState, bootOverride, error: r.ok ? null : (r.error ?? 'failed without a reason') };
}

interface ClaimedRequest {
  id: string;
  action: CloudPowerAction;
  xnames: string[];
  claimedAt: string | null;
}

const CLAIM = `mutation Claim($max: Int) { claimPowerRequests(max: $max) { id action xnames claimedAt } }`;
const COMPLETE = `mutation Complete($id: ID!, $results: [PowerResultInput!]!) { completePowerRequest(id: $id, results: $results) { id status } }`;

export interface PowerRunnerOptions {
  client: CloudClient;
  dataDir: string;
  intervalMs?: number;
  /** Backoff while the cloud is unreachable. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Requests claimed per round. */
  maxClaim?: number;
  /** TLS towards BMCs: default the pins discovery stored in the data dir (an unpinned BMC is refused), as `skyboot-agent power`. */
  tls?: TlsPolicy;
  /** Passed to the Redfish power module (timeouts, polling). */
  power?: Pick<PowerOptions, 'timeoutMs' | 'confirmTimeoutMs' | 'pollMs' | 'concurrency'>;
  logger?: Logger;
}

export interface PowerRunnerStats {
  claimed: number;
  completed: number;
  /** Completions the cloud refused for good (logged; the journal entry is dropped). */
  refused: number;
  /** Journalled requests waiting for the cloud to record their completion. */
  waiting: number;
  consecutiveFailures: number;
  lastError: string | null;
}

export class PowerRunner {
  readonly journal: PowerJournal;
  private readonly logger: Logger;
  private running = false;
  private loop: Promise<void> | null = null;
  private readonly pause = new RoundPause();
  private failures = 0;
  private lastError: string | null = null;
  private counters = { claimed: 0, completed: 0, refused: 0 };
  private waiting = 0;

  constructor(private readonly opts: PowerRunnerOptions) {
    this.journal = new PowerJournal(opts.dataDir);
    this.logger = (opts.logger ?? agentLog).child({ module: 'power-runner' });
  }

  /**
   * A request journalled as claimed but never run to the end was interrupted by a stop or crash:
   * its outcome on the BMC is unknown, and running it again could cycle a node twice.
   */
  async init(): Promise<this> {
    await this.journal.init();
    for (const e of await this.journal.list()) {
      if (e.state !== 'claimed') continue;
      const error = `the agent stopped while running ${e.action}; the outcome is unknown: check with STATUS`;
      await this.journal.write({ ...e, state: 'ran', results: e.xnames.map((xname) => ({ xname, ok: false, powerState: null, bootOverride: null, error })) });
      this.logger.warn({ id: e.id, action: e.action }, 'power request interrupted by a restart; reported as failed');
    }
    return this;
  }

  stats(): PowerRunnerStats {
    return { ...this.counters, waiting: this.waiting, consecutiveFailures: this.failures, lastError: this.lastError };
  }

  /** Sends every journalled completion; throws CloudUnreachableError when the cloud does not answer. */
  async deliverCompletions(): Promise<number> {
    const ran = (await this.journal.list()).filter((e) => e.state === 'ran');
    this.waiting = ran.length;
    let sent = 0;
    for (const e of ran) {
      try {
        await this.opts.client.request(COMPLETE, { id: e.id, results: e.results ?? [] });
        this.counters.completed++;
      } catch (err) {
        if (!(err instanceof CloudRequestError) || !FINAL_REFUSALS.has(err.code ?? '')) throw err;
        // Refused for good (another completion is stored, the request is gone): retrying cannot help.
        this.counters.refused++;
        this.logger.error({ id: e.id, code: err.code, err: err.message }, 'cloud refused a power completion; dropped from the journal');
      }
      await this.journal.remove(e.id);
      this.waiting--;
      sent++;
    }
    return sent;
  }

  private async endpoints(): Promise<EndpointMap> {
    const report = await loadLastReport(this.opts.dataDir);
    return report ? endpointMapFromReport(report) : new Map();
  }

  /** Runs one claimed request on the BMCs; one result per target, in the request's order. */
  async execute(req: Pick<ClaimedRequest, 'action' | 'xnames'> & { id?: string }): Promise<PowerResultInput[]> {
    const endpoints = await this.endpoints();
    const known = req.xnames.filter((x) => endpoints.has(x));
    const byXname = new Map<string, PowerResultInput>();
    for (const x of req.xnames) if (!endpoints.has(x)) byXname.set(x, { xname: x, ok: false, powerState: null, bootOverride: null, error: noBmcError(x) });
    if (known.length) {
      const pins = this.opts.tls ? null : await PinStore.load(this.opts.dataDir, 'refuse');
      const tls: TlsPolicy = this.opts.tls ?? { mode: 'pin', pins: pins! };
      try {
        const results = await powerAction(known, mapAction(req.action), {
          ...this.opts.power, endpoints, tls, logger: this.logger,
          dataDir: this.opts.dataDir, actor: req.id ? `skyboot-agent run (power request ${req.id})` : 'skyboot-agent run',
          credentials: new CredentialResolver(await loadStoredCredentials(this.opts.dataDir)),
        });
        for (const r of results) byXname.set(r.xname, toResultInput(r, req.action));
      } catch (err) {
        for (const x of known) byXname.set(x, { xname: x, ok: false, powerState: null, bootOverride: null, error: (err as Error).message });
      }
      await pins?.save();
    }
    return req.xnames.map((x) => byXname.get(x)!);
  }

  /** One round: deliver waiting completions, claim, run, journal, report. Returns requests run. */
  async runOnce(): Promise<number> {
    await this.deliverCompletions();
    const { claimPowerRequests } = await this.opts.client.request<{ claimPowerRequests: ClaimedRequest[] }>(CLAIM, { max: this.opts.maxClaim ?? 10 });
    for (const req of claimPowerRequests) {
      this.counters.claimed++;
      const entry: JournalEntry = { id: req.id, action: req.action, xnames: req.xnames, claimedAt: req.claimedAt ?? new Date().toISOString(), state: 'claimed', results: null };
      await this.journal.write(entry);
      this.logger.info({ id: req.id, action: req.action, xnames: req.xnames.length }, 'power request claimed');
      // One at a time, in claim order: two requests for one node must not race on its BMC.
      // Whatever goes wrong, the request is answered: a claim left unanswered stays RUNNING.
      const results = await this.execute(req).catch((err: Error) =>
        req.xnames.map((xname) => ({ xname, ok: false, powerState: null, bootOverride: null, error: `agent: ${err.message}` })));
      await this.journal.write({ ...entry, state: 'ran', results });
    }
    await this.deliverCompletions();
    return claimPowerRequests.length;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const interval = this.opts.intervalMs ?? DEFAULT_POWER_INTERVAL_MS;
    this.loop = (async () => {
      while (this.running) {
        let delay = interval;
        try {
          await this.runOnce();
          this.failures = 0;
          this.lastError = null;
        } catch (err) {
          this.failures++;
          this.lastError = (err as Error).message;
          if (err instanceof CloudUnreachableError) {
            delay = Math.max(interval, backoffMs(this.failures, this.opts.baseDelayMs ?? 1000, this.opts.maxDelayMs ?? 60_000));
          }
          this.logger.warn({ err: this.lastError, retryInMs: delay, waiting: this.waiting }, 'power runner round failed');
        }
        if (!this.running) break;
        await this.pause.sleep(delay);
      }
    })();
  }

  /** Ends a wait at once (the link came back, or a test wants a round now). */
  nudge(): void {
    this.pause.wake();
  }

  /** Stops after the round in progress (a BMC action is not abandoned half-way). */
  async stop(): Promise<void> {
    this.running = false;
    this.pause.wake();
    await this.loop;
  }
}
