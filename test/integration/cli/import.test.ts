/**
 * `skyboot component import` against the test gateway: a CSV streamed in batches, interrupted
 * after its first batch (the AbortSignal a Ctrl-C gives the CLI) and resumed from the
 * checkpoint; refused records reported by their line; JSON and YAML files of the same records.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphqlClient, type Gql } from '../../../cli/client.js';
import { runCli } from '../../../cli/program.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

const ROWS = 2_500;
const xnameFor = (i: number) => `x${4000 + Math.floor(i / 2048)}c${Math.floor(i / 256) % 8}s${Math.floor(i / 4) % 64}b0n${i % 4}`;
const mac = (i: number) => `02:00:10:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

describe('skyboot component import (CSV, JSON, YAML) against the gateway', () => {
  let gw: TestGateway;
  let dir: string;
  let gql: Gql;
  beforeAll(async () => {
    gw = await startTestGateway({ ownDynamoDb: true });
    dir = mkdtempSync(join(tmpdir(), 'skyboot-import-'));
    gql = graphqlClient({ url: `${gw.url}/graphql`, token: gw.tokens.admin });
  });
  afterAll(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(args: string[], wrap?: (g: Gql) => Gql, signal?: AbortSignal) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql: wrap ? wrap(gql) : gql, out: (l) => out.push(l), err: (l) => err.push(l), tty: false, ...(signal ? { signal } : {}) });
    return { code, out, err };
  }
  const count = async (site: string) => {
    let n = 0;
    let after: string | null = null;
    for (;;) {
      const r: { components: { edges: unknown[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await gql(
        `query($f: ComponentFilter, $a: String) { components(filter: $f, first: 1000, after: $a) { edges { cursor } pageInfo { hasNextPage endCursor } } }`,
        { f: { site }, a: after },
      );
      n += r.components.edges.length;
      if (!r.components.pageInfo.hasNextPage) return n;
      after = r.components.pageInfo.endCursor;
    }
  };

  it('streams a CSV in batches, resumes after an interruption, and names refused rows by line', async () => {
    const lines = ['xname,role,arch,nid,mac,ip,network'];
    for (let i = 0; i < ROWS; i++) {
      const role = i === 19 ? 'BOGUS' : 'COMPUTE';
      const xname = i === 9 ? 'x1000c0s0b0nX' : xnameFor(i);
      // Record 1,799 claims record 1,798's MAC: the server refuses it (line 1,801).
      lines.push([xname, role, 'X86', i + 1, mac(i === 1799 ? 1798 : i), `10.20.${i >> 8}.${i & 255}`, 'hsn'].join(','));
    }
    const file = join(dir, 'nodes.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);

    // Interrupted once the first batch is in: what Ctrl-C does to a running import.
    const stop = new AbortController();
    let upserts = 0;
    const first = await cli(['component', 'import', file, '--batch', '1000'], (g) => async (q, v) => {
      const r = await g(q, v);
      upserts++;
      stop.abort();
      return r as never;
    }, stop.signal);
    expect(first.code).toBe(1);
    // Line 21 (an unknown role) was refused by GraphQL as a whole batch, which was split until it stood alone.
    expect(upserts).toBeGreaterThan(1);
    expect(first.err.join('\n')).toMatch(/interrupted: rows up to 1002 are imported; run the same command again/);
    expect(existsSync(`${file}.import-checkpoint`)).toBe(true);
    expect(await count('local')).toBe(999);

    let resumedUpserts = 0;
    const second = await cli(['component', 'import', file, '--batch', '1000'], (g) => async (q, v) => {
      resumedUpserts++;
      return g(q, v);
    });
    expect(second.code).toBe(1);
    expect(resumedUpserts).toBe(2); // rows 1,003-2,501: the first batch is not sent again
    expect(second.out).toEqual([`${ROWS} rows: ${ROWS - 3} created, 0 updated, 0 unchanged, 3 failed (resumed after row 1002)`]);
    const errs = second.err.join('\n');
    expect(errs).toMatch(/row 11 \(x1000c0s0b0nX\): input\.xname: /);
    expect(errs).toMatch(/row 21 \(x4000c0s4b0n3\): input: Value "BOGUS" does not exist in "Role" enum/);
    expect(errs).toMatch(new RegExp(`row 1801 \\(${xnameFor(1799)}\\): input\\[\\d+\\]\\.interfaces\\[0\\]\\.mac: `));
    expect(existsSync(`${file}.import-checkpoint`)).toBe(false);
    expect(await count('local')).toBe(ROWS - 3);
  }, 600_000);

  it('imports a JSON array, JSON lines and a YAML sequence into a site', async () => {
    await gql(`mutation { createSite(input: { name: "imp" }) { site { name } } }`);
    const rec = (i: number) => ({ xname: `x5000c0s${i}b0n0`, role: 'SERVICE', interfaces: [{ mac: mac(50_000 + i), ipAddresses: [`10.50.0.${i}`] }] });
    writeFileSync(join(dir, 'a.json'), JSON.stringify([rec(0), rec(1), rec(2)], null, 2));
    writeFileSync(join(dir, 'b.jsonl'), [rec(3), rec(4)].map((r) => JSON.stringify(r)).join('\n'));
    writeFileSync(
      join(dir, 'c.yaml'),
      ['# service nodes', ...[5, 6].flatMap((i) => [`- xname: x5000c0s${i}b0n0`, '  role: SERVICE', '  interfaces:', `    - mac: "${mac(50_000 + i)}"`, `      ipAddresses: ["10.50.0.${i}"]`])].join('\n'),
    );
    for (const [f, n] of [['a.json', 3], ['b.jsonl', 2], ['c.yaml', 2]] as const) {
      const r = await cli(['component', 'import', join(dir, f), '--site', 'imp', '--json']);
      expect({ f, code: r.code, err: r.err, out: r.out }).toMatchObject({ f, code: 0, err: [] });
      expect(JSON.parse(r.out[0]!)).toMatchObject({ rows: n, created: n, failed: 0, errors: [] });
    }
    expect(await count('imp')).toBe(7);
    // The same file again writes nothing.
    const again = await cli(['component', 'import', join(dir, 'a.json'), '--site', 'imp', '--json']);
    expect(JSON.parse(again.out[0]!)).toMatchObject({ rows: 3, created: 0, updated: 0, unchanged: 3 });
  }, 120_000);
});
