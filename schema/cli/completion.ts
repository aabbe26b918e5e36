/**
 * Shell completion scripts generated from a command tree (commandTree.ts). Both shells get the
 * same logic: walk the words before the cursor down the subcommands (skipping option values),
 * then offer the value an option expects, else the options (after `-`), else the subcommands or
 * the argument's choices. Plain `case` statements: no bash 4 associative arrays, so macOS's
 * bash 3.2 runs it too.
 */
import { allCommands, type CommandNode, type OptionNode, type ValueKind } from './commandTree.js';

export type Shell = 'bash' | 'zsh';
export const SHELLS: readonly Shell[] = ['bash', 'zsh'];

/** `skyboot-agent` → `_skyboot_agent`, the completion function's name. */
export function completionFunction(program: string): string {
  return `_${program.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** Words completion offers must survive unquoted in `compgen -W` and `compadd`. */
const SAFE_WORD = /^[A-Za-z0-9_.:@+/=%,-]+$/;
const safe = (words: string[]): string[] => words.filter((w) => SAFE_WORD.test(w));

/** Single-quoted for either shell. */
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const key = (c: CommandNode): string => c.path.map((p) => `/${p}`).join('');

/** The names a subcommand is reached by. */
const spellings = (c: CommandNode): string[] => [c.name, ...c.aliases];

interface ValueRule {
  pattern: string;
  value: ValueKind;
}

/**
 * `<command key>:<option>` for every option that takes a value. The root's options are
 * recognised after a subcommand too (commander's default), hence `*:` for them.
 */
function valueRules(root: CommandNode): ValueRule[] {
  const rules: ValueRule[] = [];
  for (const c of allCommands(root)) {
    for (const o of c.options) {
      if (!o.value) continue;
      for (const n of o.names) rules.push({ pattern: c === root ? `*:${n}` : `${quote(key(c))}:${quote(n)}`, value: o.value });
    }
  }
  // Specific commands before the root's wildcard patterns: `case` takes the first match.
  return [...rules.filter((r) => !r.pattern.startsWith('*')), ...rules.filter((r) => r.pattern.startsWith('*'))];
}

const optionWords = (c: CommandNode): string[] => safe(c.options.flatMap((o) => o.names));

interface Positional {
  /** `'<command key>':<index>`, or `:*` for the words a variadic last argument takes. */
  pattern: string;
  words: string[];
  files: 'file' | 'dir' | null;
  description: string;
}

/**
 * What the n-th bare word after a command may be: a subcommand, else that argument's choices or
 * a path. Every argument gets its line, so a variadic last one's `*` matches only past them.
 */
function positionals(c: CommandNode): Positional[] {
  const k = quote(key(c));
  if (c.commands.length > 0) return [{ pattern: `${k}:0`, words: safe(c.commands.flatMap(spellings)), files: null, description: '' }];
  return c.arguments.map((a, i) => ({
    pattern: `${k}:${i === c.arguments.length - 1 && a.variadic ? '*' : i}`,
    words: a.value.kind === 'choices' ? safe(a.value.values) : [],
    files: a.value.kind === 'file' || a.value.kind === 'dir' ? a.value.kind : null,
    description: a.description,
  }));
}

function groupBy<T>(items: T[], by: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const t of items) groups.set(by(t), [...(groups.get(by(t)) ?? []), t]);
  return groups;
}

function walkCase(root: CommandNode, indent: string): string[] {
  const rules = valueRules(root);
  const subs = allCommands(root).filter((c) => c !== root).flatMap((c) => spellings(c).map((s) => ({ from: key({ ...c, path: c.path.slice(0, -1) }), word: s, to: key(c) })));
  const lines = [
    `${indent}case "$node:$w" in`,
    // One line per command, so a diff of the script reads like a diff of the definitions.
    ...[...groupBy(rules, (r) => r.pattern.slice(0, r.pattern.lastIndexOf(':')))].map(([, rs]) => `${indent}  ${rs.map((r) => r.pattern).join('|')}) ((i++)); continue ;;`),
    `${indent}esac`,
    `${indent}case "$node/$w" in`,
  ];
  // Aliases lead to the command's own key, so everything after keys on one name.
  for (const s of subs) lines.push(`${indent}  ${quote(`${s.from}/${s.word}`)}) node=${quote(s.to)}; n=0 ;;`);
  // Any other bare word is the command's n-th argument.
  lines.push(`${indent}  *) [[ $w == -* ]] || n=$((n + 1)) ;;`, `${indent}esac`);
  return lines;
}

export function bashCompletion(root: CommandNode): string {
  const fn = completionFunction(root.name);
  const rules = valueRules(root);
  const lines = [
    `# bash completion for ${root.name}, generated from its command definitions: ${root.name} completion bash`,
    `# Load it with: source <(${root.name} completion bash)   (or save it under ~/.local/share/bash-completion/completions/${root.name})`,
    `${fn}() {`,
    '  local cur="${COMP_WORDS[COMP_CWORD]}" prev="" node="" w i n=0',
    '  (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"',
    '  for (( i = 1; i < COMP_CWORD; i++ )); do',
    '    w="${COMP_WORDS[i]}"',
    ...walkCase(root, '    '),
    '  done',
    '  COMPREPLY=()',
    '  case "$node:$prev" in',
  ];
  for (const r of rules) {
    const v = r.value;
    const action = v.kind === 'choices' ? `COMPREPLY=($(compgen -W ${quote(safe(v.values).join(' '))} -- "$cur"))`
      : v.kind === 'file' ? 'COMPREPLY=($(compgen -f -- "$cur"))'
        : v.kind === 'dir' ? 'COMPREPLY=($(compgen -d -- "$cur"))' : ':';
    lines.push(`    ${r.pattern}) ${action}; return ;;`);
  }
  lines.push('  esac', '  local words=""', '  if [[ $cur == -* ]]; then', '    case "$node" in');
  for (const c of allCommands(root)) lines.push(`      ${quote(key(c))}) words=${quote(optionWords(c).join(' '))} ;;`);
  lines.push('    esac', '  else', '    case "$node:$n" in');
  for (const p of allCommands(root).flatMap(positionals)) {
    if (p.files) lines.push(`      ${p.pattern}) COMPREPLY=($(compgen -${p.files === 'dir' ? 'd' : 'f'} -- "$cur")); return ;;`);
    else lines.push(`      ${p.pattern}) words=${quote(p.words.join(' '))} ;;`);
  }
  lines.push('    esac', '  fi', '  COMPREPLY=($(compgen -W "$words" -- "$cur"))', '}', `complete -F ${fn} ${root.name}`);
  return `${lines.join('\n')}\n`;
}

/** `name:description` for _describe, colons in the name escaped, the description on one line. */
const described = (name: string, description: string): string => quote(`${name.replace(/:/g, '\\:')}:${description.replace(/\s+/g, ' ').trim()}`);

const optionItems = (o: OptionNode): string[] => safe(o.names).map((n) => described(n, o.description));

export function zshCompletion(root: CommandNode): string {
  const fn = completionFunction(root.name);
  const rules = valueRules(root);
  const lines = [
    `#compdef ${root.name}`,
    `# zsh completion for ${root.name}, generated from its command definitions: ${root.name} completion zsh`,
    `# Load it with: source <(${root.name} completion zsh) after compinit, or save it as _${root.name} in a directory of $fpath.`,
    `${fn}() {`,
    // `node`, not `path`: zsh ties $path to $PATH.
    '  local cur="${words[CURRENT]}" prev="${words[CURRENT-1]}" node="" w i n=0',
    '  for (( i = 2; i < CURRENT; i++ )); do',
    '    w="${words[i]}"',
    ...walkCase(root, '    '),
    '  done',
    '  case "$node:$prev" in',
  ];
  for (const r of rules) {
    const v = r.value;
    const action = v.kind === 'choices' ? `compadd -- ${safe(v.values).map(quote).join(' ')}`
      : v.kind === 'file' ? '_files' : v.kind === 'dir' ? '_files -/' : "_message 'a value'";
    lines.push(`    ${r.pattern}) ${action}; return ;;`);
  }
  lines.push('  esac', '  local -a items', '  if [[ $cur == -* ]]; then', '    case "$node" in');
  for (const c of allCommands(root)) lines.push(`      ${quote(key(c))}) items=(${c.options.flatMap(optionItems).join(' ')}) ;;`);
  lines.push('    esac', "    _describe -t options 'option' items", '    return', '  fi', '  case "$node:$n" in');
  for (const c of allCommands(root)) {
    if (c.commands.length) {
      lines.push(`    ${quote(key(c))}:0) items=(${c.commands.flatMap((s) => spellings(s).filter((n) => SAFE_WORD.test(n)).map((n) => described(n, s.description))).join(' ')}) ;;`);
      continue;
    }
    for (const p of positionals(c)) {
      if (p.files) lines.push(`    ${p.pattern}) ${p.files === 'dir' ? '_files -/' : '_files'}; return ;;`);
      else lines.push(`    ${p.pattern}) items=(${p.words.map((w) => described(w, p.description)).join(' ')}) ;;`);
    }
  }
  lines.push('  esac', "  _describe -t commands 'command' items", '}');
  // Autoloaded from $fpath the file's body is the function's; sourced, it registers itself.
  lines.push(`if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then ${fn} "$@"; else compdef ${fn} ${root.name}; fi`);
  return `${lines.join('\n')}\n`;
}

export function completionScript(root: CommandNode, shell: Shell): string {
  return shell === 'bash' ? bashCompletion(root) : zshCompletion(root);
}
