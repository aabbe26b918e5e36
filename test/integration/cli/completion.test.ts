/**
 * `skyboot completion bash|zsh` and `skyboot-agent completion bash|zsh`: the scripts the bins
 * print, loaded into a real bash (and zsh), complete subcommands, options and option values
 * from the commander definitions.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'skyboot-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The script a bin prints, saved so each shell run sources the same bytes. */
function script(bin: 'skyboot' | 'skyboot-agent', shell: 'bash' | 'zsh'): string {
  const file = join(dir, `${bin}.${shell}`);
  writeFileSync(file, execFileSync(process.execPath, [join('bin', `${bin}.js`), 'completion', shell], { encoding: 'utf8' }));
  return file;
}

const shQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

function shell(name: 'bash' | 'zsh', code: string): string {
  const r = spawnSync(name, name === 'zsh' ? ['-f', '-c', code] : ['--norc', '--noprofile', '-c', code], { encoding: 'utf8', cwd: dir });
  if (r.error) throw new Error(`${name} is needed for this test (Debian package ${name}): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** COMPREPLY after the completion function runs on `line`, the cursor on its last word. */
function bashComplete(file: string, fn: string, words: string[]): string[] {
  const out = shell('bash', `source ${shQuote(file)}; COMP_WORDS=(${words.map(shQuote).join(' ')}); COMP_CWORD=${words.length - 1}; ${fn}; printf '%s\\n' "\${COMPREPLY[@]}"`);
  return out.split('\n').filter(Boolean);
}

describe('bash completion', () => {
  let skyboot: string;
  let agent: string;
  beforeAll(() => {
    skyboot = script('skyboot', 'bash');
    agent = script('skyboot-agent', 'bash');
  });

  it('completes skyboot subcommands at every level', () => {
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', ''])).toEqual(expect.arrayContaining(['component', 'group', 'power', 'image', 'login', 'completion']));
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'comp'])).toEqual(['component', 'completion']);
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'component', ''])).toEqual(['list', 'show', 'upsert', 'update', 'delete', 'state', 'move', 'import']);
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'completion', ''])).toEqual(['bash', 'zsh']);
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'completion', 'bash', ''])).toEqual([]);
  });

  it('completes options, their fixed values and file names, past program options and their values', () => {
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', '-'])).toEqual(['-V', '--version', '--profile', '-h', '--help']);
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'component', 'list', '--st'])).toEqual(['--state']);
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'component', 'list', '--state', ''])).toEqual(['unknown', 'empty', 'populated', 'off', 'on', 'standby', 'halt', 'ready']);
    // `lab` is --profile's value, not a subcommand, and --site's value is skipped the same way.
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', '--profile', 'lab', 'component', 'list', '--site', 'a', '-o', ''])).toEqual(['table', 'wide', 'json', 'yaml', 'csv']);
    writeFileSync(join(dir, 'nodes.csv'), 'xname\n');
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'component', 'import', 'nod'])).toEqual(['nodes.csv']);
    // A value nobody can list: nothing offered, rather than subcommands.
    expect(bashComplete(skyboot, '_skyboot', ['skyboot', 'component', 'list', '--site', ''])).toEqual([]);
  });

  it('completes skyboot-agent subcommands and options', () => {
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', ''])).toEqual(['simulate-bmcs', 'discover', 'power', 'boot-pxe', 'run', 'status', 'export', 'completion']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'export', 're'])).toEqual(['reconcile']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'run', '--dhcp-'])).toEqual(['--dhcp-address', '--dhcp-interface', '--dhcp-subnet', '--dhcp-range', '--dhcp-router']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'power', '--timeout', '3', '--js'])).toEqual(['--json']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', '-'])).toEqual(['-V', '--version', '-h', '--help']);
    // The first argument's values, and not again for the xnames after it.
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'power', '--timeout', '3', ''])).toEqual(['on', 'off', 'soft-off', 'reset', 'cycle', 'status']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'power', 'on', ''])).toEqual([]);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'run', '--dhcp', ''])).toEqual(['proxy', 'full', 'off']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'run', '--workload', ''])).toEqual(['none', 'exec', 'slurm']);
    expect(bashComplete(agent, '_skyboot_agent', ['skyboot-agent', 'export', 'list', '--iscsi', 'l'])).toEqual(['lio']);
  });
});

/**
 * zsh's completion builtins (compadd, _describe, _files) work only inside a live line editor,
 * so here they are shell functions that print what the generated function hands them; the
 * walk over the words, the value rules and the item lists run in the real zsh.
 */
describe('zsh completion (completion builtins replaced by printers: they need a live line editor)', () => {
  const printers = [
    'compdef() { :; }',
    '_describe() { local -a arr; arr=("${(@P)4}"); print -l -- "${arr[@]%%:*}"; }',
    'compadd() { [[ $1 == -- ]] && shift; print -l -- "$@"; }',
    '_files() { print -- "<files$*>"; }',
    "_message() { print -- '<message>'; }",
  ].join('\n');
  function zshComplete(file: string, fn: string, words: string[]): string[] {
    const out = shell('zsh', `${printers}\nsource ${shQuote(file)}\nwords=(${words.map(shQuote).join(' ')}); CURRENT=${words.length}; ${fn}`);
    return out.split('\n').filter(Boolean);
  }

  it('offers skyboot subcommands, options and values', () => {
    const file = script('skyboot', 'zsh');
    expect(zshComplete(file, '_skyboot', ['skyboot', 'component', ''])).toEqual(['list', 'show', 'upsert', 'update', 'delete', 'state', 'move', 'import']);
    expect(zshComplete(file, '_skyboot', ['skyboot', '--profile', 'lab', 'component', 'list', '--state', ''])).toEqual(['unknown', 'empty', 'populated', 'off', 'on', 'standby', 'halt', 'ready']);
    expect(zshComplete(file, '_skyboot', ['skyboot', 'component', 'import', ''])).toEqual(['<files>']);
    expect(zshComplete(file, '_skyboot', ['skyboot', 'component', 'list', '--site', ''])).toEqual(['<message>']);
  });

  it('offers skyboot-agent subcommands and options', () => {
    const file = script('skyboot-agent', 'zsh');
    expect(zshComplete(file, '_skyboot_agent', ['skyboot-agent', ''])).toEqual(['simulate-bmcs', 'discover', 'power', 'boot-pxe', 'run', 'status', 'export', 'completion']);
    expect(zshComplete(file, '_skyboot_agent', ['skyboot-agent', 'status', '-'])).toEqual(['--config', '--data-dir', '--http', '--json', '-h', '--help']);
    expect(zshComplete(file, '_skyboot_agent', ['skyboot-agent', 'discover', '--data-dir', ''])).toEqual(['<files-/>']);
    expect(zshComplete(file, '_skyboot_agent', ['skyboot-agent', 'power', ''])).toEqual(['on', 'off', 'soft-off', 'reset', 'cycle', 'status']);
    expect(zshComplete(file, '_skyboot_agent', ['skyboot-agent', 'power', 'on', ''])).toEqual([]);
  });
});
