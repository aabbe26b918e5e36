/**
 * The claim-expiry schedule: a node whose claim lease ran out (its agent died or lost the cloud for
 * longer than the lease) goes back to PENDING, so another agent of the site takes it over; a canary
 * slot it held is freed for the next claim. Conditional on the lease it saw, so a renewal landing at
 * the same moment wins. One handler: an EventBridge schedule in AWS (cdk/), a timer in local/start.ts.
 */
import type { Clients } from '../shared/clients.js';
import { clients } from '../shared/clients.js';
import { logger } from '../shared/logger.js';
import { allSessionNodes, transition } from './sessionNodes.js';
import { openSessions, settleSession } from './sessions.js';

export async function expireBootSessionClaims(c: Clients, now = new Date()): Promise<number> {
  const at = now.toISOString();
  let expired = 0;
  for (const s of await openSessions(c)) {
    if (s.counts.inProgress === 0) continue;
    for (const n of await allSessionNodes(c, s.id)) {
      if (n.phase !== 'INPROGRESS' || !n.leaseExpiresAt || n.leaseExpiresAt > at) continue;
      const released = await transition(c, {
        sessionId: s.id,
        xname: n.xname,
        from: 'INPROGRESS',
        to: 'PENDING',
        set: { error: { step: 'claim', message: `lease of agent ${n.claimedBy ?? '?'} expired at ${n.leaseExpiresAt}; released for another agent of the site` }, canary: false },
        remove: ['claimedBy', 'claimToken', 'leaseExpiresAt'],
        nodeCondition: { expression: 'leaseExpiresAt = :seen', values: { ':seen': n.leaseExpiresAt } },
        sessionAdd: n.canary ? { canaryStarted: -1 } : {},
      });
      if (released) {
        expired++;
        logger.warn('boot session claim expired', { sessionId: s.id, xname: n.xname, agent: n.claimedBy, leaseExpiresAt: n.leaseExpiresAt });
      }
    }
    await settleSession(c, s.id);
  }
  return expired;
}

/** The scheduled Lambda's entry (EventBridge rate schedule). */
export const handler = async (): Promise<{ expired: number }> => ({ expired: await expireBootSessionClaims(clients()) });
