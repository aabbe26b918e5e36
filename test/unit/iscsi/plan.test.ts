import type { ActualExport } from '../../../onprem-agent/iscsi/backend.js';
import { buildIscsiDesiredState, type IscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor, lunIdentity } from '../../../onprem-agent/iscsi/naming.js';
import { planReconcile } from '../../../onprem-agent/iscsi/plan.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const N1 = initiatorIqnFor('x1000c0s0b0n0');
const N2 = initiatorIqnFor('x1000c0s0b0n1');
const HOUR = 3_600_000;
const now = new Date('2026-11-21T12:00:00Z');

function desired(refs: Array<[string, string]>, chap: IscsiDesiredState['chap'] = null): IscsiDesiredState {
  return buildIscsiDesiredState({
    agentName: 'agent-a', siteDomain: 'site1.example.org',
    images: [
      { imageId: 'A', imageName: 'a', version: '1', status: 'READY', rootfsSha256: A, rootfsSize: 4096 },
      { imageId: 'B', imageName: 'b', version: '1', status: 'READY', rootfsSha256: B, rootfsSize: 4096 },
    ],
    nodes: refs.map(([xname, imageId]) => ({ xname, imageId, rootfsProvider: 'ISCSI' })),
    cachedPath: (sha) => `/cache/${sha}`,
    chap,
  });
}

/** What a backend would report after applying `d` exactly. */
function applied(d: IscsiDesiredState, sessions: Record<string, string[]> = {}): ActualExport[] {
  return d.exports.map((e) => {
    const id = lunIdentity(e.rootfsSha256);
    return {
      targetIqn: e.targetIqn, lun: { lun: 1, backingPath: e.rootfsPath, readonly: true, scsiId: id.scsiId, serial: id.serial },
      acl: [...e.initiators], sessions: sessions[e.targetIqn] ?? [], chapUsers: d.chap ? e.chapUsers : [], chapMutualUsers: d.chap?.mutualUser ? [d.chap.mutualUser] : [],
    };
  });
}

const opts = (unreferencedSince: Record<string, string> = {}, at = now) => ({ now: at, gracePeriodMs: HOUR, unreferencedSince });

describe('planReconcile', () => {
  it('exports, then binds, each referenced image; nothing when already applied', () => {
    const d = desired([['x1000c0s0b0n0', 'A'], ['x1000c0s0b0n1', 'A']]);
    const plan = planReconcile(d, [], opts());
    expect(plan.steps.map((s) => s.op)).toEqual(['ensure-export', 'bind-initiator', 'bind-initiator']);
    expect(planReconcile(d, applied(d), opts())).toEqual({ steps: [], deferred: [], unreferencedSince: {} });
  });

  it('repairs a writable or mis-identified LUN instead of trusting it', () => {
    const d = desired([['x1000c0s0b0n0', 'A']]);
    const writable = applied(d);
    writable[0]!.lun!.readonly = false;
    expect(planReconcile(d, writable, opts()).steps).toEqual([expect.objectContaining({ op: 'ensure-export', reason: 'LUN is writable' })]);
    const wrongId = applied(d);
    wrongId[0]!.lun!.scsiId = 'IET     00010001';
    expect(planReconcile(d, wrongId, opts()).steps).toEqual([expect.objectContaining({ op: 'ensure-export', reason: 'LUN identity differs from the digest' })]);
  });

  it('defers unbinding an initiator that is logged in, and unbinds it once it is not', () => {
    const before = desired([['x1000c0s0b0n0', 'A'], ['x1000c0s0b0n1', 'A']]);
    const after = desired([['x1000c0s0b0n0', 'A']]);
    const t = before.exports[0]!.targetIqn;
    const held = planReconcile(after, applied(before, { [t]: [N2] }), opts());
    expect(held.steps).toEqual([]);
    expect(held.deferred).toEqual([{ targetIqn: t, what: 'unbind-initiator', initiatorIqn: N2, reason: 'initiator is logged in' }]);
    expect(planReconcile(after, applied(before), opts()).steps).toEqual([{ op: 'unbind-initiator', targetIqn: t, initiatorIqn: N2 }]);
  });

  it('removes an unreferenced image only after the grace period and never under a session', () => {
    const old = desired([['x1000c0s0b0n0', 'A']]);
    const next = desired([['x1000c0s0b0n0', 'B']]);
    const oldT = old.exports[0]!.targetIqn;
    const actual = [...applied(old), ...applied(next)];
    const first = planReconcile(next, actual, opts());
    expect(first.steps).toEqual([]);
    expect(first.unreferencedSince).toEqual({ [oldT]: now.toISOString() });
    const later = new Date(now.getTime() + HOUR);
    expect(planReconcile(next, actual, opts(first.unreferencedSince, later)).steps).toEqual([{ op: 'remove-export', targetIqn: oldT, unreferencedSince: now.toISOString() }]);
    const busy = [...applied(old, { [oldT]: [N1] }), ...applied(next)];
    const blocked = planReconcile(next, busy, opts(first.unreferencedSince, new Date(now.getTime() + 100 * HOUR)));
    expect(blocked.steps).toEqual([]);
    expect(blocked.deferred[0]).toMatchObject({ targetIqn: oldT, what: 'remove-export', reason: `logged in: ${N1}` });
  });

  it('forgets the first-seen time of an image that is referenced again', () => {
    const d = desired([['x1000c0s0b0n0', 'A']]);
    const plan = planReconcile(d, applied(d), opts({ [d.exports[0]!.targetIqn]: '2026-01-01T00:00:00.000Z' }));
    expect(plan.unreferencedSince).toEqual({});
  });

  it('leaves targets that are not Skyboot exports of this agent alone', () => {
    const d = desired([]);
    const foreign = applied(desired([['x1000c0s0b0n0', 'A']])).map((e) => ({ ...e, targetIqn: e.targetIqn.replace('agent-a', 'agent-b') }));
    const other: ActualExport = { ...foreign[0]!, targetIqn: 'iqn.2003-01.org.linux-iscsi:sn.123' };
    expect(planReconcile(d, [...foreign, other], opts({}, new Date(now.getTime() + 10 * HOUR)))).toEqual({ steps: [], deferred: [], unreferencedSince: {} });
  });

  it('binds and unbinds CHAP users as the policy changes', () => {
    const plain = desired([['x1000c0s0b0n0', 'A']]);
    const chap = desired([['x1000c0s0b0n0', 'A']], { mode: 'mutual', user: 'u', mutualUser: 'm' });
    expect(planReconcile(chap, applied(plain), opts()).steps).toEqual([{ op: 'set-chap', targetIqn: plain.exports[0]!.targetIqn, users: ['u.x1000c0s0b0n0'], mutualUsers: ['m'] }]);
    expect(planReconcile(plain, applied(chap), opts()).steps).toEqual([{ op: 'set-chap', targetIqn: plain.exports[0]!.targetIqn, users: [], mutualUsers: [] }]);
    expect(planReconcile(chap, applied(chap), opts()).steps).toEqual([]);
  });
});
