/**
 * Power and one-time PXE boot through Redfish, addressed by node xname. The xname → BMC map is
 * the last discovery report. Reset types come from what the BMC advertises, with fallbacks where
 * a vendor lacks one (no PowerCycle: ForceOff, then On).
 */
import type { Logger } from 'pino';
import { BadUserInputError } from '../../schema/errors.js';
import { normaliseXName } from '../../schema/xname.js';
import { log as agentLog } from '../logger.js';
import { RedfishClient, RedfishHttpError, RedfishWriteOutcomeUnknownError, type Json } from './client.js';
import type { CredentialResolver } from './credentials.js';
import { Limiter, mapLimited } from './limiter.js';
import type { PidLock } from '../run/pidLock.js';
import { acquireNodePowerLock, PowerActionInProgressError } from './powerLock.js';
import { lastReportPath, loadLastReport } from './report-store.js';
import { bmcKey, type TlsPolicy } from './transport.js';
import type { DiscoveryReport } from './types.js';

export const POWER_ACTIONS = ['on', 'off', 'soft-off', 'reset', 'cycle', 'status', 'boot-pxe'] as const;
export type PowerActionName = (typeof POWER_ACTIONS)[number];

export interface EndpointTarget {
  xname: string;
  bmcXName: string;
  host: string;
  port: number;
  scheme: 'http' | 'https';
  systemPath: string;
  resetTarget: string | null;
  resetTypes: string[];
  bootMode: 'UEFI' | 'Legacy' | null;
}

export type EndpointMap = Map<string, EndpointTarget>;

export interface PowerResult {
  xname: string;
  action: PowerActionName;
  ok: boolean;
  /** PowerState read back at the end. */
  powerState: string | null;
  /** The reset types sent, in order. */
  resetTypes: string[];
  detail: string;
  /** After boot-pxe: the override read back from the BMC, e.g. "Pxe/Once/UEFI". */
  bootOverride?: string;
  error?: string;
}

export interface PowerOptions {
  dataDir?: string;
  endpoints?: EndpointMap;
  credentials?: CredentialResolver;
  tls?: TlsPolicy;
  timeoutMs?: number;
  /** How long to wait for the PowerState to confirm an action. */
  confirmTimeoutMs?: number;
  pollMs?: number;
  concurrency?: number;
  logger?: Logger;
  /** Who acts, as the node's power lock names it to a second caller (default: this process's command). */
  actor?: string;
}

export function endpointMapFromReport(report: DiscoveryReport): EndpointMap {
  const map: EndpointMap = new Map();
  const hardware = new Map(report.hardware.map((h) => [h.xname, h]));
  for (const e of report.redfishEndpoints) {
    for (const s of e.systems) {
      const hw = hardware.get(s.xname);
      map.set(s.xname, {
        xname: s.xname, bmcXName: e.xname, host: e.host, port: e.port, scheme: e.scheme, systemPath: s.path,
        resetTarget: hw?.resetTarget ?? null, resetTypes: hw?.resetTypes ?? [], bootMode: hw?.boot.mode ?? null,
      });
    }
  }
  return map;
}

/** The node xname → BMC map from the last discovery report stored in `dataDir`. */
export async function loadEndpointMap(dataDir: string): Promise<EndpointMap> {
  const report = await loadLastReport(dataDir);
  if (!report) throw new BadUserInputError('xname', `no discovery report at ${lastReportPath(dataDir)}; run skyboot-agent discover first`);
  return endpointMapFromReport(report);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pick = (advertised: string[], preferred: string[]): string | undefined => preferred.find((t) => advertised.includes(t));

const ON_TYPES = ['On', 'ForceOn', 'PushPowerButton'];
const OFF_TYPES = ['ForceOff', 'Off', 'PushPowerButton'];
const RESTART_TYPES = ['ForceRestart', 'GracefulRestart', 'PowerCycle'];
/** Reset types that name the state they leave the system in: sending one twice is sending it once. */
const STATE_SETTING_TYPES = new Set(['On', 'ForceOn', 'Off', 'ForceOff', 'GracefulShutdown']);
/** What a reset should lead to: a power state, or a restart (which ends On, as it began). */
type ResetGoal = 'On' | 'Off' | 'restart';

class NodeActions {
  readonly sent: string[] = [];
  /** Why a lost answer was not resent, added to a confirmation timeout so the error says so. */
  private unconfirmed: string | null = null;

  constructor(private readonly client: RedfishClient, private readonly t: EndpointTarget, private readonly opts: PowerOptions, private readonly logger: Logger) {}

  async read(): Promise<Json> {
    return this.client.get(this.t.systemPath);
  }

  async state(): Promise<string | null> {
    const s = await this.read();
    return typeof s.PowerState === 'string' ? s.PowerState : null;
  }

  /** Live advertised types when the system carries them inline; the report's otherwise. */
  advertised(system: Json): string[] {
    const action = (system.Actions as Json | undefined)?.['#ComputerSystem.Reset'] as Json | undefined;
    const inline = action?.['ResetType@Redfish.AllowableValues'];
    return Array.isArray(inline) && inline.length > 0 ? inline.filter((x): x is string => typeof x === 'string') : this.t.resetTypes;
  }

  private target(system: Json): string {
    const action = (system.Actions as Json | undefined)?.['#ComputerSystem.Reset'] as Json | undefined;
    return (typeof action?.target === 'string' ? action.target : null) ?? this.t.resetTarget ?? `${this.t.systemPath}/Actions/ComputerSystem.Reset`;
  }

  async reset(system: Json, type: string, goal: ResetGoal): Promise<void> {
    this.sent.push(type);
    try {
      await this.client.write('POST', this.target(system), { ResetType: type });
    } catch (err) {
      if (!(err instanceof RedfishWriteOutcomeUnknownError)) throw err;
      await this.afterLostAnswer(system, type, goal, err);
    }
  }

  /**
   * The POST may or may not have been carried out: read the state back and decide, instead of
   * sending it again blindly (a second PushPowerButton undoes the first, a second ForceRestart
   * restarts the node twice).
   */
  private async afterLostAnswer(system: Json, type: string, goal: ResetGoal, lost: RedfishWriteOutcomeUnknownError): Promise<void> {
    const seen = await this.state();
    const log = (decision: string): void => this.logger.warn({ xname: this.t.xname, resetType: type, powerState: seen, reason: lost.reason, decision }, 'reset answer lost; decided from the power state read back');
    if (goal === 'restart') {
      // It was On; anything but On now means the restart is under way.
      if (seen !== 'On') return log('restart under way; waiting for On');
      log('outcome unknown; not resent');
      throw new Error(`${type}: ${lost.message}; PowerState reads On, so whether the node restarted cannot be told, and a second ${type} would restart it again: not resent; check with STATUS`);
    }
    if (seen === goal || seen === `Powering${goal}`) return log(`already ${seen}; waiting for ${goal}`);
    if (!STATE_SETTING_TYPES.has(type)) {
      // A toggle (PushPowerButton): the press may still be on its way to the power state.
      this.unconfirmed = `${lost.message}; ${type} toggles power, so it was not sent again`;
      return log(`${type} toggles; not resent, waiting for ${goal}`);
    }
    log(`still ${seen ?? 'unknown'}; ${type} sent once more`);
    this.sent.push(type);
    try {
      await this.client.write('POST', this.target(system), { ResetType: type });
    } catch (err) {
      // A BMC that did act on the first may refuse the second ("already in that state"): the
      // confirmation that follows decides.
      if (!(err instanceof RedfishHttpError) || err.status >= 500) throw err;
      this.unconfirmed = `the second ${type} was refused: ${err.message}`;
    }
  }

  async waitFor(expected: string): Promise<string> {
    const deadline = Date.now() + (this.opts.confirmTimeoutMs ?? 120_000);
    for (;;) {
      const last = await this.state();
      if (last === expected) return last;
      if (Date.now() >= deadline) {
        throw new Error(`PowerState did not reach ${expected} within ${(this.opts.confirmTimeoutMs ?? 120_000) / 1000}s (last seen: ${last ?? 'none'})${this.unconfirmed ? `; ${this.unconfirmed}` : ''}`);
      }
      await sleep(this.opts.pollMs ?? 500);
    }
  }

  private noType(action: string, wanted: string[], advertised: string[]): Error {
    return new Error(`the BMC advertises no reset type for "${action}" (wanted one of ${wanted.join(', ')}; it offers ${advertised.join(', ') || 'none'})`);
  }

  async powerOn(system: Json): Promise<string> {
    const advertised = this.advertised(system);
    const type = pick(advertised, ON_TYPES);
    if (!type) throw this.noType('on', ON_TYPES, advertised);
    await this.reset(system, type, 'On');
    return this.waitFor('On');
  }

  async powerOff(system: Json, graceful: boolean): Promise<string> {
    const advertised = this.advertised(system);
    const wanted = graceful ? ['GracefulShutdown', ...OFF_TYPES] : OFF_TYPES;
    const type = pick(advertised, wanted);
    if (!type) throw this.noType(graceful ? 'soft-off' : 'off', wanted, advertised);
    await this.reset(system, type, 'Off');
    return this.waitFor('Off');
  }

  async run(action: PowerActionName): Promise<{ powerState: string | null; detail: string; bootOverride?: string }> {
    const system = await this.read();
    const now = typeof system.PowerState === 'string' ? system.PowerState : null;
    const isOn = now === 'On' || now === 'PoweringOn';
    switch (action) {
      case 'status':
        return { powerState: now, detail: 'read from the BMC' };
      case 'on':
        if (now === 'On') return { powerState: now, detail: 'already On' };
        return { powerState: await this.powerOn(system), detail: 'powered on' };
      case 'off':
      case 'soft-off':
        if (now === 'Off') return { powerState: now, detail: 'already Off' };
        return { powerState: await this.powerOff(system, action === 'soft-off'), detail: 'powered off' };
      case 'reset':
      case 'cycle': {
        if (!isOn) return { powerState: await this.powerOn(system), detail: 'was Off; powered on' };
        const advertised = this.advertised(system);
        const one = action === 'cycle' ? pick(advertised, ['PowerCycle']) : pick(advertised, RESTART_TYPES);
        if (one) {
          await this.reset(system, one, 'restart');
          return { powerState: await this.waitFor('On'), detail: `${one} sent; On again` };
        }
        await this.powerOff(system, false);
        return { powerState: await this.powerOn(system), detail: 'no single reset type: powered off, then on' };
      }
      case 'boot-pxe':
        return this.bootPxe(system);
    }
  }

  private async bootPxe(system: Json): Promise<{ powerState: string | null; detail: string; bootOverride: string }> {
    const boot = (system.Boot as Json | undefined) ?? {};
    const allowed = boot['BootSourceOverrideTarget@Redfish.AllowableValues'];
    if (Array.isArray(allowed) && allowed.length > 0 && !allowed.includes('Pxe')) {
      throw new Error(`the BMC does not offer Pxe as a boot override target (it offers ${allowed.join(', ')})`);
    }
    const mode = boot.BootSourceOverrideMode === 'UEFI' || boot.BootSourceOverrideMode === 'Legacy' ? boot.BootSourceOverrideMode : this.t.bootMode;
    const wanted: Json = { BootSourceOverrideTarget: 'Pxe', BootSourceOverrideEnabled: 'Once', ...(mode === 'UEFI' ? { BootSourceOverrideMode: 'UEFI' } : {}) };
    const etag: Record<string, string> = typeof system['@odata.etag'] === 'string' ? { 'If-Match': system['@odata.etag'] } : {};
    try {
      await this.client.write('PATCH', this.t.systemPath, { Boot: wanted }, etag);
    } catch (err) {
      if (!(err instanceof RedfishWriteOutcomeUnknownError)) throw err;
      // Setting the override twice sets it once, but only if the first did not land: read back.
      const now = await this.read();
      const landed = Object.entries(wanted).every(([k, v]) => ((now.Boot as Json | undefined) ?? {})[k] === v);
      this.logger.warn({ xname: this.t.xname, reason: err.reason, landed }, 'boot override answer lost; read back');
      if (!landed) {
        const again: Record<string, string> = typeof now['@odata.etag'] === 'string' ? { 'If-Match': now['@odata.etag'] } : {};
        await this.client.write('PATCH', this.t.systemPath, { Boot: wanted }, again);
      }
    }
    const back = ((await this.read()).Boot as Json | undefined) ?? {};
    const wrong = Object.entries(wanted).filter(([k, v]) => back[k] !== v);
    if (wrong.length > 0) {
      throw new Error(`boot override not confirmed on read-back: ${wrong.map(([k, v]) => `${k} is ${String(back[k])}, wanted ${String(v)}`).join('; ')}`);
    }
    return {
      powerState: typeof system.PowerState === 'string' ? system.PowerState : null,
      detail: `one-time PXE boot set${mode === 'UEFI' ? ' (UEFI)' : ''} and read back`,
      bootOverride: [back.BootSourceOverrideTarget, back.BootSourceOverrideEnabled, back.BootSourceOverrideMode].filter((v) => typeof v === 'string').join('/'),
    };
  }
}

/** Runs `action` on every node; one result per requested xname, failures named, never thrown. */
const defaultActor = (action: PowerActionName): string => `${process.argv.slice(1, 3).map((a) => a.split('/').pop()).join(' ')} ${action}`.trim();

export async function powerAction(targets: string[], action: PowerActionName, opts: PowerOptions = {}): Promise<PowerResult[]> {
  if (!POWER_ACTIONS.includes(action)) throw new BadUserInputError('action', `"${String(action)}" is not one of ${POWER_ACTIONS.join(', ')}`);
  const logger = (opts.logger ?? agentLog).child({ module: 'redfish-power' });
  const endpoints = opts.endpoints ?? (opts.dataDir ? await loadEndpointMap(opts.dataDir) : null);
  if (!endpoints) throw new BadUserInputError('dataDir', 'either an endpoint map or the data dir with a discovery report is required');
  const results = new Map<string, PowerResult>();
  const byBmc = new Map<string, EndpointTarget[]>();
  for (const raw of targets) {
    let xname: string;
    try {
      xname = normaliseXName(raw);
    } catch (err) {
      results.set(raw, { xname: raw, action, ok: false, powerState: null, resetTypes: [], detail: '', error: (err as Error).message });
      continue;
    }
    const t = endpoints.get(xname);
    if (!t) {
      results.set(raw, { xname, action, ok: false, powerState: null, resetTypes: [], detail: '', error: `${xname} is not a node in the last discovery report` });
      continue;
    }
    const key = bmcKey(t);
    byBmc.set(key, [...(byBmc.get(key) ?? []), t]);
  }
  const global = new Limiter(opts.concurrency ?? 32);
  await mapLimited([...byBmc.values()], opts.concurrency ?? 32, async (group) => {
    // With a data dir, one action per node across the processes that share it (powerLock.ts),
    // taken before the BMC hears anything: a node someone else is acting on gets no request.
    const locks: PidLock[] = [];
    const nodes: EndpointTarget[] = [];
    for (const t of group) {
      if (!opts.dataDir) {
        nodes.push(t);
        continue;
      }
      try {
        locks.push(await acquireNodePowerLock(opts.dataDir, t.xname, opts.actor ?? defaultActor(action)));
        nodes.push(t);
      } catch (err) {
        if (!(err instanceof PowerActionInProgressError)) throw err;
        results.set(t.xname, { xname: t.xname, action, ok: false, powerState: null, resetTypes: [], detail: '', error: err.message });
      }
    }
    if (nodes.length === 0) return;
    const first = nodes[0]!;
    const client = new RedfishClient({
      address: { host: first.host, port: first.port, scheme: first.scheme }, tls: opts.tls, timeoutMs: opts.timeoutMs ?? 10_000, global, logger,
      credentials: opts.credentials?.resolve(first.host, first.port),
    });
    try {
      const root = await client.serviceRoot();
      await client.login(root);
      await Promise.all(nodes.map(async (t) => {
        const node = new NodeActions(client, t, opts, logger);
        try {
          const { powerState, detail, bootOverride } = await node.run(action);
          results.set(t.xname, { xname: t.xname, action, ok: true, powerState, resetTypes: node.sent, detail, ...(bootOverride ? { bootOverride } : {}) });
        } catch (err) {
          results.set(t.xname, { xname: t.xname, action, ok: false, powerState: null, resetTypes: node.sent, detail: '', error: (err as Error).message });
        }
      }));
    } catch (err) {
      for (const t of nodes) {
        if (!results.has(t.xname)) results.set(t.xname, { xname: t.xname, action, ok: false, powerState: null, resetTypes: [], detail: '', error: `BMC ${first.bmcXName} (${bmcKey(first)}): ${(err as Error).message}` });
      }
    } finally {
      await client.logout();
      client.close();
      await Promise.all(locks.map((l) => l.release()));
    }
  });
  const out = targets.map((raw) => {
    let key: string;
    try {
      key = normaliseXName(raw);
    } catch {
      key = raw;
    }
    return results.get(key) ?? results.get(raw)!;
  });
  for (const r of out) logger.info({ xname: r.xname, action, ok: r.ok, powerState: r.powerState, error: r.error }, 'power action');
  return out;
}
