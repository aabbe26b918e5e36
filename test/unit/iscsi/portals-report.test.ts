/** The agent.portals observation an agent sends at `run` start: when, with what, and the withdrawal. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportAgentPortals } from '../../../onprem-agent/iscsi/portals-report.js';
import type { ObservationSink } from '../../../onprem-agent/outbox/sink.js';

describe('agent.portals report', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('sends normalised portals at every start, withdraws them once iSCSI is off, and stays silent otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyboot-portals-unit-'));
    dirs.push(dir);
    const sent: { kind: string; payload: unknown; key: string }[] = [];
    const sink: ObservationSink = { enqueue: async (kind, payload, key) => void sent.push({ kind, payload, key }) };
    expect(await reportAgentPortals(sink, dir, 'not_a_dns_label', { mode: 'off', portals: [], tgtControlPort: null, chap: 'off' as const })).toBeNull();
    const on = { mode: 'tgt' as const, portals: ['10.0.1.5:3260', ' 10.0.0.5:3260', '10.0.1.5:3260'], tgtControlPort: null, chap: 'off' as const };
    await reportAgentPortals(sink, dir, 'Agent-A', on, new Date(1000));
    await reportAgentPortals(sink, dir, 'Agent-A', on, new Date(2000));
    await reportAgentPortals(sink, dir, 'Agent-A', { ...on, mode: 'off' }, new Date(3000));
    expect(await reportAgentPortals(sink, dir, 'Agent-A', { ...on, mode: 'off' }, new Date(4000))).toBeNull();
    expect(sent.map((s) => s.payload)).toEqual([
      { agent: 'agent-a', portals: ['10.0.0.5:3260', '10.0.1.5:3260'] },
      { agent: 'agent-a', portals: ['10.0.0.5:3260', '10.0.1.5:3260'] },
      { agent: 'agent-a', portals: [] },
    ]);
    expect(new Set(sent.map((s) => s.key)).size).toBe(3);
    expect(sent.every((s) => s.kind === 'agent.portals' && /^[\w.:-]{1,128}$/.test(s.key))).toBe(true);
    await expect(reportAgentPortals(sink, dir, 'a', { ...on, portals: ['10.0.0.5:0'] })).rejects.toThrow(/iscsiPortal\[0\]/);
  });
});
