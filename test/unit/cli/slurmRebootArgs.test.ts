/**
 * skyboot-slurm-reboot's own arguments, before any call: slurmctld's usage, --help and
 * --version answer without a token or an API; a missing node list is a usage error (exit 2).
 */
import { runSlurmReboot } from '../../../cli/slurmReboot.js';
import { packageVersion } from '../../../schema/version.js';
import type { Gql } from '../../../cli/client.js';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // Any call would be a defect here: these arguments never reach the API.
  const gql: Gql = async () => { throw new Error(`called the API for ${args.join(' ')}`); };
  const code = await runSlurmReboot(args, {}, { stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; } }, gql);
  return { code, stdout, stderr };
}

describe('skyboot-slurm-reboot arguments', () => {
  it.each([
    ['--help', 0, /Usage: skyboot-slurm-reboot \[options\] <nodes> \[features\][\s\S]*SKYBOOT_SLURM_NODE_MAP[\s\S]*Exit status/],
    ['-h', 0, /Usage: skyboot-slurm-reboot/],
    ['--version', 0, new RegExp(`^${packageVersion().replace(/\./g, '\\.')}\\n$`)],
  ])('%s answers on stdout with exit %d', async (arg, code, out) => {
    const r = await run([arg]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code, stderr: '' });
    expect(r.stdout).toMatch(out);
  });

  it.each([
    [[], /missing required argument 'nodes'/],
    [['nid[000001-000002]', 'feature', 'extra'], /too many arguments/],
    [['--force', 'nid000001'], /unknown option '--force'/],
  ])('%j is a usage error (exit 2) that says what is wrong', async (args, message) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
