import { InMemoryBootTimeline, MAX_DETAIL_LENGTH, type BootTimelineEvent } from '../../../onprem-agent/timeline/bootTimeline.js';

const X = 'x1000c0s0b0n0';
const T = '0123456789abcdef0123';

function ev(over: Partial<BootTimelineEvent> = {}): BootTimelineEvent {
  return { xname: X, stage: 'http.script', at: new Date().toISOString(), ...over };
}

describe('InMemoryBootTimeline', () => {
  it('returns a node’s events oldest first, copies not references', () => {
    const t = new InMemoryBootTimeline();
    t.record(ev({ stage: 'dhcp.offer' }));
    t.record(ev({ stage: 'dhcp.ack' }));
    t.record(ev({ stage: 'http.script', bootToken: T }));
    const events = t.events(X);
    expect(events.map((e) => e.stage)).toEqual(['dhcp.offer', 'dhcp.ack', 'http.script']);
    events[0]!.stage = 'heartbeat';
    expect(t.events(X)[0]!.stage).toBe('dhcp.offer');
    expect(t.events('x9c0s0b0n0')).toEqual([]);
  });

  it('keeps only the newest events per node', () => {
    const t = new InMemoryBootTimeline({ eventsPerNode: 3 });
    for (let i = 0; i < 10; i++) t.record(ev({ detail: `n${i}` }));
    expect(t.events(X).map((e) => e.detail)).toEqual(['n7', 'n8', 'n9']);
  });

  it('drops the node heard from longest ago when too many nodes are tracked', () => {
    const t = new InMemoryBootTimeline({ nodes: 2 });
    t.record(ev({ xname: 'a1' }));
    t.record(ev({ xname: 'b1' }));
    t.record(ev({ xname: 'a1' }));
    t.record(ev({ xname: 'c1' }));
    expect(t.nodes().sort()).toEqual(['a1', 'c1']);
    expect(t.events('b1')).toEqual([]);
  });

  it('truncates long details', () => {
    const t = new InMemoryBootTimeline();
    t.record(ev({ detail: 'x'.repeat(5000) }));
    expect(t.events(X)[0]!.detail).toHaveLength(MAX_DETAIL_LENGTH);
  });

  it('waitForHeartbeat resolves with an already-recorded heartbeat carrying the token', async () => {
    const t = new InMemoryBootTimeline();
    const since = new Date(Date.now() - 1000);
    t.record(ev({ stage: 'heartbeat', bootToken: T }));
    const e = await t.waitForHeartbeat(X, T, since, 1000);
    expect(e?.stage).toBe('heartbeat');
    expect(e?.bootToken).toBe(T);
  });

  it('waitForHeartbeat ignores heartbeats before `since`, with another token, or for another node', async () => {
    const t = new InMemoryBootTimeline();
    t.record(ev({ stage: 'heartbeat', bootToken: T, at: new Date(Date.now() - 60_000).toISOString() }));
    const since = new Date(Date.now() - 1000);
    const p = t.waitForHeartbeat(X, T, since, 200);
    t.record(ev({ stage: 'heartbeat', bootToken: 'ffffffffffffffffffff' }));
    t.record(ev({ xname: 'x1000c0s0b0n1', stage: 'heartbeat', bootToken: T }));
    t.record(ev({ stage: 'http.script', bootToken: T }));
    expect(await p).toBeNull();
  });

  it('waitForHeartbeat resolves when the heartbeat arrives later', async () => {
    const t = new InMemoryBootTimeline();
    const p = t.waitForHeartbeat(X, T, new Date(Date.now() - 10), 5000);
    setTimeout(() => t.record(ev({ stage: 'heartbeat', bootToken: T, detail: 'late' })), 20);
    expect((await p)?.detail).toBe('late');
  });

  it('waitForHeartbeat resolves null on abort', async () => {
    const t = new InMemoryBootTimeline();
    const ac = new AbortController();
    const p = t.waitForHeartbeat(X, T, new Date(), 60_000, ac.signal);
    ac.abort();
    expect(await p).toBeNull();
    const already = new AbortController();
    already.abort();
    expect(await t.waitForHeartbeat(X, T, new Date(), 60_000, already.signal)).toBeNull();
  });

  it('tells listeners about each event until they unsubscribe', () => {
    const t = new InMemoryBootTimeline();
    const seen: string[] = [];
    const off = t.onRecord((e) => seen.push(e.stage));
    t.record(ev({ stage: 'tftp' }));
    off();
    t.record(ev({ stage: 'dhcp.ack' }));
    expect(seen).toEqual(['tftp']);
  });
});
