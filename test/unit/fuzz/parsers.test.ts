/**
 * A short, fixed-seed slice of bench/fuzz: each parser that faces the site LAN or a BMC gets a
 * few thousand coverage-guided cases through the product's real entry points. No crash (an
 * error other than the parser's documented bad-input error, or a broken invariant), no hang
 * (a case over 1 s), and the mutations must reach code the seeds alone do not.
 * The Redfish target reads the real BMC mockups from ../shared/redfish-mockups and fails
 * naming that path when they are absent.
 */
import { BlockCoverage } from '../../../bench/fuzz/coverage.js';
import type { FuzzResult } from '../../../bench/fuzz/engine.js';

const coverage = new BlockCoverage();
let run: (name: 'dhcp' | 'tftp' | 'http' | 'redfish', cases: number) => Promise<FuzzResult>;

beforeAll(async () => {
  coverage.start();
  // After coverage started, so the product's functions are compiled with block counters.
  const { TARGETS } = await import('../../../bench/fuzz/targets.js');
  const { fuzz } = await import('../../../bench/fuzz/engine.js');
  run = async (name, cases) => {
    const target = await TARGETS[name]();
    try {
      return await fuzz(target as Parameters<typeof fuzz>[0], { cases, seed: 20261202, coverage, batch: 250 });
    } finally {
      await target.close();
    }
  };
});
afterAll(() => coverage.stop());

const summary = (r: FuzzResult): string => JSON.stringify({ crashes: r.crashes, hangs: r.hangs, first: r.findings[0]?.message.split('\n')[0] ?? null });

describe.each([
  ['dhcp', 3000],
  ['tftp', 3000],
  ['http', 1000],
  ['redfish', 1000],
] as const)('fuzz slice: %s', (name, cases) => {
  it(`runs ${cases} cases with no crash or hang, and reaches code the seeds do not`, async () => {
    const r = await run(name, cases);
    expect(r.cases).toBe(cases);
    expect(summary(r)).toBe(JSON.stringify({ crashes: 0, hangs: 0, first: null }));
    expect(r.paths).toBeGreaterThan(r.seedPaths);
    expect(r.corpus).toBeGreaterThan(0);
  });
});
