import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { graphqlClient } from '../../../cli/client.js';
import { runCli } from '../../../cli/program.js';
import { expandHostlist } from '../../../cli/sessionCommands.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { siteFixture, type SiteFixture } from '../sync/siteFixture.js';

describe('skyboot template | session | stage against the gateway', () => {
  let gw: TestGateway;
  let fx: SiteFixture;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skyboot-cli-session-'));
    gw = await startTestGateway();
    fx = await siteFixture(gw, 'clis');
  });
  afterAll(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function cli(args: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['node', 'skyboot', ...args], { gql: graphqlClient({ url: `${gw.url}/graphql`, token: gw.tokens.operator }), out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
    return { code, out, err };
  }

  it('expands hostlists as Slurm writes them', () => {
    expect(expandHostlist('x1000c0s[0-2]b0n0,x1001c0s0b0n0')).toEqual(['x1000c0s0b0n0', 'x1000c0s1b0n0', 'x1000c0s2b0n0', 'x1001c0s0b0n0']);
    expect(expandHostlist('nid0000[06-07]')).toEqual(['nid000006', 'nid000007']);
  });

  it('puts a template, stages a session, applies it (twice harmlessly), watches it to its end', async () => {
    const file = join(dir, 't.json');
    writeFileSync(file, JSON.stringify({ name: 'all', site: 'clis', bootSets: [{ name: 'compute', imageId: fx.imageId, roles: ['COMPUTE'] }] }));
    const put = await cli(['template', 'put', file, '--expected-version', '0']);
    expect(put.code).toBe(0);
    expect(put.out).toEqual(['template all version 1']);
    const again = await cli(['template', 'put', file, '--expected-version', '0']);
    expect(again.code).not.toBe(0);
    expect((await cli(['template', 'show', 'all', '--site', 'clis'])).out.join('\n')).toContain('role:COMPUTE');

    const bad = await cli(['session', 'create', 'all', '--site', 'clis', '--operation', 'reboot', '--max-concurrent', '0']);
    expect(bad.code).not.toBe(0);
    expect(bad.err.join('\n')).toContain('input.maxConcurrent');

    const made = await cli(['session', 'create', 'all', '--site', 'clis', '--operation', 'reboot', '--stage', '--json']);
    expect(made.code).toBe(0);
    const s = JSON.parse(made.out[0]!) as { id: string; status: string; counts: { staged: number } };
    expect(s.counts.staged).toBe(2);
    const first = await cli(['stage', 'apply', 'x1000c0s[0-1]b0n0', '--site', 'clis', '--json']);
    expect(JSON.parse(first.out[0]!)).toEqual({ succeeded: ['x1000c0s0b0n0', 'x1000c0s1b0n0'], failed: [], ignored: [] });
    const second = await cli(['stage', 'apply', 'x1000c0s0b0n0,x1000c0s1b0n0', '--site', 'clis', '--json']);
    expect(JSON.parse(second.out[0]!)).toEqual({ succeeded: [], failed: [], ignored: ['x1000c0s0b0n0', 'x1000c0s1b0n0'] });
    const show = await cli(['session', 'show', s.id, '--json']);
    expect(show.err).toEqual([]);
    const shown = JSON.parse(show.out[0]!) as { counts: { pending: number } };
    expect(shown.counts.pending).toBe(2);
    expect((await cli(['session', 'pause', s.id])).out).toEqual([`${s.id} PAUSED`]);
    expect((await cli(['session', 'cancel', s.id])).out).toEqual([`${s.id} CANCELLED`]);
    const watch = await cli(['session', 'watch', s.id, '--json', '--interval', '0.1']);
    expect(watch.code).toBe(0);
    expect(JSON.parse(watch.out[0]!)).toMatchObject({ id: s.id, status: 'CANCELLED' });
    const list = await cli(['session', 'list', '--site', 'clis']);
    expect(list.out.join('\n')).toContain(s.id);
  });
});
