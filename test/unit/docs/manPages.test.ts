/**
 * docs/man/*.1 are what `npm run docs:man` makes from the commander definitions now, and they
 * render: man(1) shows every command's usage, and groff finds nothing to warn about.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram, ROOT_EXTRAS } from '../../../cli/program.js';
import { buildAgentProgram } from '../../../onprem-agent/cli/program.js';
import { buildSlurmRebootProgram } from '../../../cli/slurmReboot.js';
import { allCommands, commandTree, type CommandNode } from '../../../schema/cli/commandTree.js';
import { MAN_DIR, manPages } from '../../../tools/manPages.js';

const pages = manPages();
const path = (file: string): string => fileURLToPath(new URL(file, MAN_DIR));

function tool(cmd: string, args: string[], env: Record<string, string> = {}): { stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.error) throw new Error(`${cmd} is needed to render the man pages (Debian: man-db, groff-base): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

const never = (): never => {
  throw new Error('no command runs here');
};
const trees: Record<string, CommandNode> = {
  'skyboot.1': commandTree(buildProgram({ gql: never, out: never, err: never, tty: false }), ROOT_EXTRAS),
  'skyboot-agent.1': commandTree(buildAgentProgram()),
  'skyboot-slurm-reboot.1': commandTree(buildSlurmRebootProgram()),
};
// What each page must show beyond its commands' usages.
const shows: Record<string, string[]> = {
  'skyboot.1': ['skyboot component list [options] [targets...]', '--state <state>'],
  'skyboot-agent.1': ['skyboot-agent discover [options]', '--timeout <seconds>'],
  'skyboot-slurm-reboot.1': ['[options] <nodes> [features]', 'SKYBOOT_SLURM_NODE_NAME_FORMAT', 'nid[000001-000004]'],
};

describe.each(Object.keys(pages))('docs/man/%s', (file) => {
  it('is the page the current command definitions give (run `npm run docs:man`)', () => {
    expect(readFileSync(path(file), 'utf8')).toBe(pages[file]);
  });

  it('renders with man -l: name, every command with its usage and options (or its arguments), exit status', () => {
    // Not a terminal and wide: plain text with each usage on one line.
    const text = tool('man', ['-l', path(file)], { MANPAGER: 'cat', MANWIDTH: '250' }).stdout;
    const root = trees[file]!;
    expect(text).toMatch(new RegExp(`^NAME\\n\\s+${root.name} - `, 'm'));
    const sections = ['SYNOPSIS', 'DESCRIPTION', 'OPTIONS', root.commands.length ? 'COMMANDS' : 'ARGUMENTS', 'ENVIRONMENT', 'EXIT STATUS', 'SEE ALSO'];
    for (const section of sections) expect(text).toMatch(new RegExp(`^${section}$`, 'm'));
    const missing = allCommands(root).filter((c) => c !== root).filter((c) => !text.includes(c.usage));
    expect(missing.map((c) => c.usage)).toEqual([]);
    for (const s of shows[file]!) expect(text).toContain(s);
  });

  it('gives groff no warning', () => {
    expect(tool('groff', ['-man', '-Tutf8', '-ww', '-z', path(file)]).stderr).toBe('');
  });
});
