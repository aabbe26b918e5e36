/**
 * The per-node boot timeline: what the agent served each node (DHCP offer and ack, the iPXE
 * binary over TFTP, the boot script, kernel, initrd and rootfs over HTTP, the iSCSI login) and the
 * node's heartbeat. It tells an operator where a stuck node stopped, and lets the rollout operator
 * wait for the heartbeat that proves a node came up on its desired boot state.
 *
 * In memory and bounded: the newest MAX_EVENTS_PER_NODE events per node, at most MAX_NODES nodes
 * (the node heard from longest ago is dropped first), so a noisy or hostile network cannot grow it.
 */

import { MAX_DETAIL_LENGTH, type BootTimelineEvent } from '../../schema/bootTimeline.js';

// The event shape lives in schema/ (the cloud validates and serves the same events).
export { BOOT_STAGES, MAX_DETAIL_LENGTH, type BootStage, type BootTimelineEvent } from '../../schema/bootTimeline.js';

export interface BootTimeline {
  record(e: BootTimelineEvent): void;
  events(xname: string): BootTimelineEvent[];
  /** The first heartbeat event for `xname` carrying `token` at or after `since`; null at timeout
   *  or abort. Heartbeats already recorded count. */
  waitForHeartbeat(xname: string, token: string, since: Date, timeoutMs: number, signal?: AbortSignal): Promise<BootTimelineEvent | null>;
}

/** Observer of every recorded event (the cloud reporter batches them). */
export type BootTimelineListener = (e: BootTimelineEvent) => void;

export const MAX_EVENTS_PER_NODE = 100;
export const MAX_NODES = 20_000;

interface Waiter {
  token: string;
  since: number;
  resolve: (e: BootTimelineEvent | null) => void;
}

function isHeartbeatFor(e: BootTimelineEvent, token: string, since: number): boolean {
  return e.stage === 'heartbeat' && e.bootToken === token && Date.parse(e.at) >= since;
}

export class InMemoryBootTimeline implements BootTimeline {
  private readonly byNode = new Map<string, BootTimelineEvent[]>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly listeners = new Set<BootTimelineListener>();

  constructor(
    private readonly limits: { eventsPerNode?: number; nodes?: number } = {},
  ) {}

  record(e: BootTimelineEvent): void {
    const event: BootTimelineEvent = { xname: e.xname, stage: e.stage, at: e.at };
    if (e.detail !== undefined) event.detail = e.detail.slice(0, MAX_DETAIL_LENGTH);
    if (e.bootToken !== undefined) event.bootToken = e.bootToken;
    const perNode = this.limits.eventsPerNode ?? MAX_EVENTS_PER_NODE;
    const maxNodes = this.limits.nodes ?? MAX_NODES;
    let list = this.byNode.get(e.xname);
    if (list) {
      // Re-insert so Map order is "least recently heard from" first.
      this.byNode.delete(e.xname);
    } else {
      list = [];
      while (this.byNode.size >= maxNodes) {
        const oldest = this.byNode.keys().next().value as string;
        this.byNode.delete(oldest);
      }
    }
    this.byNode.set(e.xname, list);
    list.push(event);
    if (list.length > perNode) list.splice(0, list.length - perNode);
    this.wake(event);
    for (const l of this.listeners) l(event);
  }

  events(xname: string): BootTimelineEvent[] {
    return (this.byNode.get(xname) ?? []).map((e) => ({ ...e }));
  }

  /** Nodes with at least one event. */
  nodes(): string[] {
    return [...this.byNode.keys()];
  }

  onRecord(listener: BootTimelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  waitForHeartbeat(xname: string, token: string, since: Date, timeoutMs: number, signal?: AbortSignal): Promise<BootTimelineEvent | null> {
    const sinceMs = since.getTime();
    const seen = (this.byNode.get(xname) ?? []).find((e) => isHeartbeatFor(e, token, sinceMs));
    if (seen) return Promise.resolve({ ...seen });
    if (signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      let set = this.waiters.get(xname);
      if (!set) this.waiters.set(xname, (set = new Set()));
      const done = (e: BootTimelineEvent | null): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set.delete(waiter);
        if (set.size === 0 && this.waiters.get(xname) === set) this.waiters.delete(xname);
        resolve(e);
      };
      const waiter: Waiter = { token, since: sinceMs, resolve: done };
      const onAbort = (): void => done(null);
      const timer = setTimeout(() => done(null), Math.max(0, timeoutMs));
      signal?.addEventListener('abort', onAbort, { once: true });
      set.add(waiter);
    });
  }

  private wake(e: BootTimelineEvent): void {
    if (e.stage !== 'heartbeat' || !e.bootToken) return;
    const set = this.waiters.get(e.xname);
    if (!set) return;
    for (const w of [...set]) if (isHeartbeatFor(e, w.token, w.since)) w.resolve({ ...e });
  }
}
