/** What the HTTP server did, for `/status` (`http.*`). Refusals are counted by reason. */

/**
 * Why a request was refused:
 * - `requester-is-another-node`: the request came from another node's inventory address;
 * - `requester-unknown`: from an address that is neither the node's inventory address nor this
 *   agent's DHCP lease for one of its MACs (and no other node's either);
 * - `unknown-node`: a heartbeat or phone-home named no node of this site (and no MAC this agent
 *   leased to the requester);
 * - `conflicting-claim`: the body's xname and MAC name two different nodes;
 * - `rate-limited`: the requester's heartbeat/phone-home budget is spent (429);
 * - `body-too-large`: a body over the cap (413).
 */
export const REFUSAL_REASONS = ['requester-is-another-node', 'requester-unknown', 'unknown-node', 'conflicting-claim', 'rate-limited', 'body-too-large'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export interface HttpCounters {
  requests: number;
  bootScripts: number;
  artifacts: number;
  artifactBytes: number;
  notModified: number;
  notFound: number;
  /** Heartbeats accepted (durable in the outbox). */
  heartbeats: number;
  /** Phone-home posts accepted (durable in the outbox). */
  phoneHomes: number;
  errors: number;
  refused: Record<RefusalReason, number>;
}

export function newHttpCounters(): HttpCounters {
  return {
    requests: 0,
    bootScripts: 0,
    artifacts: 0,
    artifactBytes: 0,
    notModified: 0,
    notFound: 0,
    heartbeats: 0,
    phoneHomes: 0,
    errors: 0,
    refused: Object.fromEntries(REFUSAL_REASONS.map((r) => [r, 0])) as Record<RefusalReason, number>,
  };
}
