/**
 * The simulated operating system of one simulated node. After power-on (or a reset) it boots as
 * a PXE node would once iPXE runs: it fetches its boot script from the agent by MAC, HEADs the
 * kernel and initrd the script names, and after a boot delay posts the heartbeat with the token
 * from the script's kernel parameters, then again every heartbeat interval while powered. Every
 * request leaves from the node's own address (a distinct 127.x.y.z the inventory holds as the
 * node's IP), so the agent's node-scoped serving applies to it as to any node: no exemption.
 *
 * Fault injection, read from the kernel parameters the agent served: `sim.panic=1` never
 * heartbeats, `sim.bootDelay=<s>` replaces the boot delay; and a seeded fail rate fails boots at
 * random, reproducibly (the draw depends on seed, node and boot count, not on timing).
 */
import { createHash } from 'node:crypto';
import { BOOT_TOKEN_PARAM } from '../../../bootscript/bootToken.js';
import { httpFrom } from './httpFrom.js';

export type SimOsEventKind = 'power.on' | 'power.off' | 'boot.started' | 'boot.script' | 'boot.failed' | 'heartbeat';

export interface SimOsEvent {
  kind: SimOsEventKind;
  /** Epoch ms. */
  at: number;
  detail?: string;
}

export interface SimNodeRecord {
  bmc: number;
  system: string;
  mac: string;
  ip: string;
  /** Epoch ms of the last of each; null when it never happened. */
  poweredOffAt: number | null;
  poweredOnAt: number | null;
  bootStartedAt: number | null;
  heartbeatSentAt: number | null;
  boots: number;
  /** The token of the last heartbeat sent. */
  lastToken: string | null;
  /** Newest last, bounded. */
  events: SimOsEvent[];
}

export interface SimOsOptions {
  /** The agent's HTTP base URL, e.g. http://127.0.0.1:8080. */
  bootFrom: string;
  /** Between kernel fetch and first heartbeat; `sim.bootDelay` overrides it. Default 1 s. */
  bootDelayMs?: number;
  /** Repeat heartbeats while powered on; default 30 s. */
  heartbeatIntervalMs?: number;
  /** Probability (0–1) that a boot fails (never heartbeats). */
  failRate?: number;
  seed?: string;
  /** Per-request timeout; default 10 s. */
  requestTimeoutMs?: number;
}

const MAX_EVENTS = 200;

/** The parameters of a script's `kernel` line (after the kernel URL, before `|| goto`). */
export function parseBootScript(script: string): { kernelUrl: string | null; initrdUrl: string | null; params: string } {
  const kernel = script.split('\n').find((l) => l.startsWith('kernel '));
  const initrd = script.split('\n').find((l) => l.startsWith('initrd '));
  // `kernel --name kernel <url> <params…> || goto failedN`: drop the command, its options and the goto.
  const strip = (line: string): string[] => {
    const t = line.replace(/\s*\|\|.*$/, '').split(/\s+/).slice(1);
    while (t[0]?.startsWith('--')) t.splice(0, t[0] === '--name' ? 2 : 1);
    return t;
  };
  const k = kernel ? strip(kernel) : [];
  const i = initrd ? strip(initrd) : [];
  return { kernelUrl: k[0] ?? null, initrdUrl: i[0] ?? null, params: k.slice(1).join(' ') };
}

function param(params: string, key: string): string | undefined {
  for (const t of params.split(' ')) if (t.startsWith(`${key}=`)) return t.slice(key.length + 1);
  return undefined;
}

/** A uniform draw in [0, 1) from the seed, node and boot number: reproducible whatever the timing. */
export function seededDraw(seed: string, mac: string, boot: number): number {
  return createHash('sha256').update(`${seed}\u0000${mac}\u0000${boot}`).digest().readUInt32BE(0) / 2 ** 32;
}

export class SimulatedOs {
  readonly record: SimNodeRecord;
  private generation = 0;
  private timers = new Set<NodeJS.Timeout>();
  private readonly opts: Required<SimOsOptions>;

  constructor(identity: { bmc: number; system: string; mac: string; ip: string }, opts: SimOsOptions) {
    this.opts = { bootDelayMs: 1000, heartbeatIntervalMs: 30_000, failRate: 0, seed: 'skyboot', requestTimeoutMs: 10_000, ...opts, bootFrom: opts.bootFrom.replace(/\/+$/, '') };
    this.record = { ...identity, poweredOffAt: null, poweredOnAt: null, bootStartedAt: null, heartbeatSentAt: null, boots: 0, lastToken: null, events: [] };
  }

  private note(kind: SimOsEventKind, detail?: string): number {
    const at = Date.now();
    this.record.events.push({ kind, at, ...(detail ? { detail } : {}) });
    if (this.record.events.length > MAX_EVENTS) this.record.events.splice(0, this.record.events.length - MAX_EVENTS);
    return at;
  }

  private sleep(ms: number, gen: number): Promise<boolean> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve(gen === this.generation);
      }, ms);
      this.timers.add(t);
    });
  }

  /** Power reached On: a boot starts (a reset is off, then on). */
  poweredOn(): void {
    const gen = ++this.generation;
    this.record.poweredOnAt = this.note('power.on');
    void this.boot(gen);
  }

  /** Power reached Off: whatever the OS was doing stops, heartbeats included. */
  poweredOff(): void {
    this.generation++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.record.poweredOffAt = this.note('power.off');
  }

  dispose(): void {
    this.generation++;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private async boot(gen: number): Promise<void> {
    const r = this.record;
    const boot = ++r.boots;
    r.bootStartedAt = this.note('boot.started', `boot ${boot}`);
    const { ip, mac } = r;
    const t = this.opts.requestTimeoutMs;
    try {
      const res = await httpFrom(ip, `${this.opts.bootFrom}/boot/v1/bootscript?mac=${mac}`, { timeoutMs: t });
      if (gen !== this.generation) return;
      if (res.status !== 200) throw new Error(`boot script: HTTP ${res.status}`);
      const script = parseBootScript(res.text());
      this.note('boot.script', script.params);
      if (!script.kernelUrl) throw new Error('the boot script names no kernel (not a known node, or waiting)');
      for (const url of [script.kernelUrl, script.initrdUrl]) {
        if (!url) continue;
        const a = await httpFrom(ip, url, { method: 'HEAD', timeoutMs: t });
        if (gen !== this.generation) return;
        if (a.status !== 200) throw new Error(`${url}: HTTP ${a.status}`);
      }
      const token = param(script.params, BOOT_TOKEN_PARAM);
      if (param(script.params, 'sim.panic') === '1') throw new Error('kernel panic (sim.panic=1)');
      if (this.opts.failRate > 0 && seededDraw(this.opts.seed, mac, boot) < this.opts.failRate) throw new Error(`random boot failure (fail rate ${this.opts.failRate})`);
      const delayParam = Number(param(script.params, 'sim.bootDelay'));
      const delay = Number.isFinite(delayParam) && delayParam >= 0 ? delayParam * 1000 : this.opts.bootDelayMs;
      if (!(await this.sleep(delay, gen))) return;
      for (;;) {
        const hb = await httpFrom(ip, `${this.opts.bootFrom}/heartbeat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ mac, ...(token ? { bootToken: token } : {}), stage: 'os' }),
          timeoutMs: t,
        }).catch((err: Error) => ({ status: 0, text: () => err.message }));
        if (gen !== this.generation) return;
        if (hb.status === 202) {
          r.heartbeatSentAt = this.note('heartbeat', token ?? 'no token');
          r.lastToken = token ?? null;
        } else this.note('boot.failed', `heartbeat: HTTP ${hb.status} ${hb.text().slice(0, 120)}`);
        if (!(await this.sleep(this.opts.heartbeatIntervalMs, gen))) return;
      }
    } catch (err) {
      if (gen === this.generation) this.note('boot.failed', (err as Error).message);
    }
  }
}
