import type { ActualExport } from '../../../onprem-agent/iscsi/backend.js';
import { buildIscsiDesiredState } from '../../../onprem-agent/iscsi/desired.js';
import { initiatorIqnFor } from '../../../onprem-agent/iscsi/naming.js';
import { sessionsReport, sessionsReportKey } from '../../../onprem-agent/iscsi/sessions-report.js';

const A = 'a'.repeat(64);
const desired = buildIscsiDesiredState({
  agentName: 'agent-a', siteDomain: 'site1.example.org',
  images: [{ imageId: 'img-1', imageName: 'c', version: '1', status: 'READY', rootfsSha256: A, rootfsSize: 4096 }],
  nodes: [{ xname: 'x1000c0s0b0n0', imageId: 'img-1', rootfsProvider: 'ISCSI' }],
  cachedPath: () => '/cache/a',
});
const exp = (targetIqn: string, sessions: string[]): ActualExport => ({ targetIqn, lun: null, acl: [], sessions, chapUsers: [], chapMutualUsers: [] });

describe('sessionsReport', () => {
  it('names images and nodes, marks unreferenced exports, and ignores foreign targets', () => {
    const mine = desired.exports[0]!.targetIqn;
    const old = `${desired.targetIqn}:img-${'f'.repeat(16)}`;
    const r = sessionsReport(desired, [exp(old, ['iqn.1994-05.com.redhat:abc']), exp(mine, [initiatorIqnFor('x1000c0s0b0n0')]), exp('iqn.2003-01.org.other:t', ['x'])], new Date('2026-11-21T00:00:00Z'));
    expect(r).toEqual({
      agentName: 'agent-a', observedAt: '2026-11-21T00:00:00.000Z',
      exports: [
        { targetIqn: mine, imageId: 'img-1', rootfsSha256: A, referenced: true, sessions: [{ initiatorIqn: initiatorIqnFor('x1000c0s0b0n0'), xname: 'x1000c0s0b0n0' }] },
        { targetIqn: old, imageId: null, rootfsSha256: null, referenced: false, sessions: [{ initiatorIqn: 'iqn.1994-05.com.redhat:abc', xname: null }] },
      ].sort((x, y) => x.targetIqn.localeCompare(y.targetIqn)),
    });
  });

  it('keys by content, not by time', () => {
    const at = (t: string, sessions: string[]) => sessionsReport(desired, [exp(desired.exports[0]!.targetIqn, sessions)], new Date(t));
    expect(sessionsReportKey(at('2026-11-21T00:00:00Z', []))).toBe(sessionsReportKey(at('2026-11-22T00:00:00Z', [])));
    expect(sessionsReportKey(at('2026-11-21T00:00:00Z', []))).not.toBe(sessionsReportKey(at('2026-11-21T00:00:00Z', [initiatorIqnFor('x1000c0s0b0n0')])));
  });
});
