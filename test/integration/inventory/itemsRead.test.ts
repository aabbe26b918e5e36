/**
 * components(filter:) reads what it returns, not the site: every DynamoDB call is metered
 * (ScannedCount: the items DynamoDB read, before any FilterExpression) on DynamoDB Local, and a
 * selective filter served by a key (role, role + state, state, site) reads at most twice what it
 * answers, on every page.
 */
import { freshAws, type TestAws } from '../../support/aws.js';
import { meterCapacity, type CapacityMeter } from '../../../bench/gateway/capacity.js';
import { ok, operator, viewer } from './call.js';

const N = 2_000;
type Conn = { edges: { node: { xname: string; role: string; state: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } };

describe('components(filter:) items read per item returned (DynamoDB Local, metered)', () => {
  let aws: TestAws;
  let meter: CapacityMeter;
  beforeAll(async () => {
    aws = await freshAws('inv-read', { ownDynamoDb: true });
    // Half COMPUTE, half SERVICE; every 20th READY (all of them COMPUTE: 100), the rest OFF.
    const input = Array.from({ length: N }, (_, i) => ({ xname: `x${1000 + (i >> 8)}c0s${(i >> 2) & 63}b0n${i & 3}`, role: i % 2 ? 'SERVICE' : 'COMPUTE', state: i % 20 === 0 ? 'READY' : 'OFF' }));
    for (let i = 0; i < N; i += 1000) expect((await ok(operator, 'upsertComponents', { input: input.slice(i, i + 1000) })).created).toBe(1000);
    meter = meterCapacity(aws.clients.ddb);
  }, 600_000);
  afterAll(() => aws.dispose());

  async function pages(filter: Record<string, unknown>, first: number) {
    const out: { returned: number; read: number }[] = [];
    let after: string | null = null;
    for (;;) {
      meter.reset();
      const page: Conn = await ok(viewer, 'components', { filter, first, after });
      out.push({ returned: page.edges.length, read: meter.scanned });
      if (!page.pageInfo.hasNextPage) return out;
      after = page.pageInfo.endCursor;
    }
  }

  it.each([
    [{ role: 'COMPUTE', state: 'READY' }, 100, 20],
    [{ role: 'COMPUTE', state: 'READY', site: 'local' }, 100, 30],
    [{ state: 'READY' }, 100, 40],
    [{ role: 'SERVICE' }, 1000, 100],
    [{ site: 'local' }, 2000, 500],
  ])('%j: every page reads at most 2x what it returns', async (filter, total, first) => {
    const got = await pages(filter, first);
    expect(got.reduce((a, p) => a + p.returned, 0)).toBe(total);
    for (const p of got) expect(p.read).toBeLessThanOrEqual(2 * Math.max(p.returned, 1) + 1);
    // Against the site: a scan-like read would be N per page.
    expect(Math.max(...got.map((p) => p.read))).toBeLessThan(N / 2);
  }, 120_000);
});
