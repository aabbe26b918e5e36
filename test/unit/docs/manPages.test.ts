/**
 * docs/man/*.1 are what `npm run docs:man` makes from the commander definitions now, and they
 * render: man(1) shows every command's usage, and groff finds nothing to warn about.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProgram, ROOT_EXTRAS } from '../../../cli/program.js';
import { buildAgentProgram } from '../../../onprem-agent/cli/program.js';
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
};

describe.each(Object.keys(pages))('docs/man/%s', (file) => {
  it('is the page the current command definitions give (run `npm run docs:man`)', () => {
    expect(readFileSync(path(file), 'utf8')).toBe(pages[file]);
  });

  it('renders with man -l: name, every command with its usage and options, exit status', () => {
    // Not a terminal and wide: plain text with each usage on one line.
    const text = tool('man', ['-l', path(file)], { MANPAGER: 'cat', MANWIDTH: '250' }).stdout;
    expect(text).toMatch(/^NAME\n\s+skyboot(-agent)? - /m);
    for (const section of ['SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'COMMANDS', 'ENVIRONMENT', 'EXIT STATUS', 'SEE ALSO']) expect(text).toMatch(new RegExp(`^${section}$`, 'm'));
    const root = trees[file]!;
    const missing = allCommands(root).filter((c) => c !== root).filter((c) => !text.includes(c.usage));
    expect(missing.map((c) => c.usage)).toEqual([]);
    const component = file === 'skyboot.1' ? 'skyboot component list [options] [targets...]' : 'skyboot-agent discover [options]';
    expect(text).toContain(component);
    expect(text).toContain(file === 'skyboot.1' ? '--state <state>' : '--timeout <seconds>');
  });

  it('gives groff no warning', () => {
    expect(tool('groff', ['-man', '-Tutf8', '-ww', '-z', path(file)]).stderr).toBe('');
  });
});
