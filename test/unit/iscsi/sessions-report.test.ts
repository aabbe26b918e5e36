import type { ActualExport } from '../../../onprem-agent/iscsi/backend.js';
import { buildIscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { sessionsReport, sessionsReportKey } from '../../../onprem-agent/iscsi/sessions-report.js';

const A = 'a'.repeat(64);
const OLD = 'f'.repeat(64);
const desired = buildIscsiDesiredState({
  agentName: 'agent-a', siteDomain: 'site1.example.org',
  images: [{ imageId: 'img-1', imageName: 'c', version: '1', status: 'READY', rootfsSha256: A, rootfsSize: 4096 }],
  nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'img-1', rootfsProvider: 'ISCSI' }],
  cachedPath: () => `/cache/sha256/${A}`,
});
const exp = (targetIqn: string, backingPath: string, sessions: string[]): ActualExport =>
  ({ targetIqn, lun: { lun: 1, backingPath, readonly: true, scsiId: '', serial: '' }, acl: [], sessions, chapUsers: [], chapMutualUsers: [] });

describe('sessionsReport', () => {
  it("is reportIscsiSessions' input: one session per logged-in initiator, with xname and rootfs digest", () => {
    const mine = desired.exports[0]!.targetIqn;
    const old = `${desired.targetIqn}:img-${OLD.slice(0, 16)}`;
    const r = sessionsReport(desired, [
      exp(old, `/cache/sha256/${OLD}`, ['iqn.1994-05.com.redhat:abc']),
      exp(mine, `/cache/sha256/${A}`, [initiatorIqnFor('x1000c0s0b0n0')]),
      exp('iqn.2003-01.org.other:t', '/x', ['iqn.1994-05.com.redhat:abc']),
    ]);
    expect(r).toEqual({
      agent: 'agent-a',
      sessions: [
        { targetIqn: mine, lun: 1, initiatorIqn: initiatorIqnFor('x1000c0s0b0n0'), xname: 'x1000c0s0b0n0', rootfsSha256: A },
        // No longer referenced: the digest comes from the content-addressed cache path.
        { targetIqn: old, lun: 1, initiatorIqn: 'iqn.1994-05.com.redhat:abc', xname: null, rootfsSha256: OLD },
      ].sort((x, y) => x.targetIqn.localeCompare(y.targetIqn)),
    });
  });

  it('keys by content', () => {
    const t = desired.exports[0]!.targetIqn;
    const none = sessionsReport(desired, [exp(t, `/cache/sha256/${A}`, [])]);
    expect(none.sessions).toEqual([]);
    expect(sessionsReportKey(none)).toBe(sessionsReportKey(sessionsReport(desired, [exp(t, `/cache/sha256/${A}`, [])])));
    expect(sessionsReportKey(none)).not.toBe(sessionsReportKey(sessionsReport(desired, [exp(t, `/cache/sha256/${A}`, [initiatorIqnFor('x1000c0s0b0n0')])])));
  });
});
