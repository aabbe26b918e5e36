import { readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { runCli } from '../../../cli/program.js';

const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['node', 'skyboot', ...args], { gql: () => Promise.reject(new Error('no request expected')), out: (l) => out.push(l), err: (l) => err.push(l), tty: false });
  return { code, out, err: err.join('\n') };
}

describe('skyboot and skyboot-agent: --version, help and exit codes', () => {
  it('--version prints package.json version with exit 0; help lists the exit codes', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: [version], err: '' });
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toMatch(/Exit codes:\n {2}0 {4}success[\s\S]* {2}2 {4}usage[\s\S]* {2}130 {2}interrupted/);
  });

  it('usage errors exit 2 naming the flag and the allowed values, before any request', async () => {
    expect(await cli(['component', 'list', '--state', 'up'])).toMatchObject({ code: 2, err: expect.stringMatching(/'--state <state>' argument 'up' is invalid\. "up" is not one of unknown, empty, populated, off, on, standby, halt, ready\./) });
    expect(await cli(['component', 'list', '-o', 'xml'])).toMatchObject({ code: 2, err: expect.stringMatching(/Allowed choices are table, wide, json, yaml, csv/) });
    expect(await cli(['power', 'on', 'x1000c0s[0-1b0n0'])).toMatchObject({ code: 2, err: 'skyboot: hostlist "x1000c0s[0-1b0n0": "[" is never closed' });
    expect(await cli(['nope'])).toMatchObject({ code: 2 });
  });

  it('skyboot-agent --version prints the same version; an unknown option exits 2', () => {
    expect(execFileSync(process.execPath, ['bin/skyboot-agent.js', '--version'], { encoding: 'utf8' }).trim()).toBe(version);
    const bad = spawnSync(process.execPath, ['bin/skyboot-agent.js', '--bogus'], { encoding: 'utf8' });
    expect({ status: bad.status, stderr: bad.stderr.trim() }).toEqual({ status: 2, stderr: "error: unknown option '--bogus'" });
  });
});
