import { freshAws, type TestAws } from '../../support/aws.js';
import { MAX_INPUT } from '../../../functions/inventory/componentUpsert.js';
import { fails, macFor, ok, okSelecting, operator, viewer } from './call.js';

const N = 10_000;

/** Distinct node xnames: 4 nodes per slot, 64 slots per chassis, 8 chassis per cabinet. */
function xnameFor(i: number): string {
  const n = i % 4;
  const s = Math.floor(i / 4) % 64;
  const c = Math.floor(i / 256) % 8;
  const x = 1000 + Math.floor(i / 2048);
  return `x${x}c${c}s${s}b0n${n}`;
}

async function pageAll(first: number): Promise<{ xnames: string[]; pages: number }> {
  const xnames: string[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const page: { edges: { cursor: string; node: { xname: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } = await ok(viewer, 'components', { first, after });
    pages++;
    xnames.push(...page.edges.map((e) => e.node.xname));
    expect(page.edges.length).toBeLessThanOrEqual(first);
    if (!page.pageInfo.hasNextPage) break;
    expect(page.edges).toHaveLength(first);
    after = page.pageInfo.endCursor;
  }
  return { xnames, pages };
}

describe('inventory bulk upsert and paging (10,000 components)', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('inv-bulk', { ownDynamoDb: true });
  });
  afterAll(() => aws.dispose());

  const expected = Array.from({ length: N }, (_, i) => xnameFor(i));

  it('refuses 10,000 components in one call by name of the input and the limit, storing nothing', async () => {
    const err = await fails(operator, 'upsertComponents', { input: expected.map((xname) => ({ xname })) });
    expect(err.code).toBe('BAD_USER_INPUT');
    expect(err.field).toBe('input');
    expect(err.message).toContain(`has ${N} components; at most ${MAX_INPUT} per call`);
    const page = await ok(viewer, 'components', { first: 1 });
    expect(page.edges).toHaveLength(0);
  }, 120_000);

  it('upserts 10,000 components in two calls of 5,000', async () => {
    expect(new Set(expected).size).toBe(N);
    // The first 500 carry a NID and an interface (three claims' worth of writes each); the rest are bare.
    const input = expected.map((xname, i) => (i < 500 ? { xname, nid: i + 1, interfaces: [{ mac: macFor(i), ipAddresses: [`10.9.${i >> 8}.${i & 255}`] }] } : { xname }));
    for (let at = 0; at < N; at += MAX_INPUT) {
      const started = Date.now();
      const res = await ok(operator, 'upsertComponents', { input: input.slice(at, at + MAX_INPUT) });
      expect(res).toEqual({ created: MAX_INPUT, updated: 0, unchanged: 0, failed: 0, errors: [], errorsOmitted: 0 });
      // Printed for the record; the domain's own 25 s limit bounds it.
      process.stderr.write(`upsertComponents(${MAX_INPUT}) took ${Date.now() - started} ms\n`);
    }
  }, 300_000);

  it('pages through all of them with first: 1000 and first: 100, no duplicates or gaps', async () => {
    for (const first of [1000, 100]) {
      const { xnames, pages } = await pageAll(first);
      expect(pages).toBe(Math.ceil(N / first));
      expect(xnames).toHaveLength(N);
      expect(new Set(xnames).size).toBe(N);
      expect([...xnames].sort()).toEqual([...expected].sort());
    }
  }, 120_000);

  it('a second bulk call mixing unchanged, changed and bad items reports per-item errors only', async () => {
    const res = await okSelecting(operator, 'upsertComponents', {
      input: [
        { xname: expected[0], nid: 1, interfaces: [{ mac: macFor(0), ipAddresses: ['10.9.0.0'] }] },
        { xname: expected[1], nid: 2, role: 'SERVICE', interfaces: [{ mac: macFor(1), ipAddresses: ['10.9.0.1'] }] },
        { xname: 'x1000c0s0b0n9', interfaces: [{ mac: macFor(2) }] },
        { xname: 'x1000c0s0b0q0' },
      ],
    }, ['created', 'updated', 'unchanged', 'failed', 'errors', 'components']);
    // The first is as stored (nothing written, still version 1); the second changed its role.
    expect(res.components.map((c: { xname: string; version: number }) => [c.xname, c.version])).toEqual([
      [expected[0], 1],
      [expected[1], 2],
    ]);
    expect(res).toMatchObject({ created: 0, updated: 1, unchanged: 1, failed: 2 });
    expect(res.errors.map((e: { xname: string; code: string }) => [e.xname, e.code])).toEqual([
      ['x1000c0s0b0n9', 'CONFLICT'],
      ['x1000c0s0b0q0', 'BAD_USER_INPUT'],
    ]);
  });
});
