/**
 * A CLI's commander definitions as plain data, for the generators that must agree with `--help`
 * (shell completion, man pages): both read what commander's own Help shows, so a command or
 * option added in code appears in both without a second list to keep.
 */
import type { Command, Option } from 'commander';

/** What completion may offer for a value: a fixed list, a file name, a directory, or nothing known. */
export type ValueKind = { kind: 'choices'; values: string[] } | { kind: 'file' } | { kind: 'dir' } | { kind: 'text' };

export interface OptionNode {
  /** As help prints them: `-o, --output <format>`. */
  flags: string;
  /** Every spelling the parser accepts: `-o`, `--output`. */
  names: string[];
  description: string;
  /** Null for a boolean flag. */
  value: ValueKind | null;
  /** The default as help shows it, or null. */
  defaultValue: string | null;
}

export interface ArgumentNode {
  name: string;
  description: string;
  required: boolean;
  variadic: boolean;
  value: ValueKind;
}

export interface CommandNode {
  name: string;
  aliases: string[];
  /** The words from the root to here, without the program name: `['component', 'list']`. */
  path: string[];
  description: string;
  usage: string;
  options: OptionNode[];
  arguments: ArgumentNode[];
  commands: CommandNode[];
}

/** Options the program handles before commander sees the line (skyboot's `--version`). */
export interface ExtraOption {
  flags: string;
  description: string;
}

const CHOICES = Symbol('completion choices');

/**
 * Marks a custom option parser with the values it accepts, for parsers that check values
 * themselves (for their own message) rather than through commander's `.choices()`.
 */
export function withChoices<F extends (raw: string) => unknown>(parser: F, values: readonly string[]): F {
  return Object.assign(parser, { [CHOICES]: values });
}

/** A parser that keeps the value as given (checked later, e.g. with a config file's), its values known to completion. */
export function knownValues(values: readonly string[]): (raw: string) => string {
  return withChoices((raw: string) => raw, values);
}

function markedChoices(parser: unknown): readonly string[] | undefined {
  return typeof parser === 'function' ? (parser as { [CHOICES]?: readonly string[] })[CHOICES] : undefined;
}

/** A placeholder's name says what it holds: `<file>`, `<files...>` and `<dir>` complete paths. */
function kindOf(placeholder: string, choices: readonly string[] | undefined): ValueKind {
  if (choices && choices.length > 0) return { kind: 'choices', values: [...choices] };
  const name = placeholder.replace(/[<>[\].]/g, '').toLowerCase();
  if (/(^|-)(file|files|path)$/.test(name) || name === 'file') return { kind: 'file' };
  if (/(^|-)(dir|directory)$/.test(name)) return { kind: 'dir' };
  return { kind: 'text' };
}

function optionNode(o: Option): OptionNode {
  const placeholder = /[<[][^>\]]*[>\]]/.exec(o.flags)?.[0];
  const names = [o.short, o.long].filter((n): n is string => typeof n === 'string');
  const shown = o.defaultValueDescription ?? (o.defaultValue === undefined || typeof o.defaultValue === 'boolean' ? undefined : JSON.stringify(o.defaultValue));
  return {
    flags: o.flags,
    names,
    description: o.description ?? '',
    value: placeholder ? kindOf(placeholder, o.argChoices ?? markedChoices(o.parseArg)) : null,
    defaultValue: shown ?? null,
  };
}

function extraNode(e: ExtraOption): OptionNode {
  const names = e.flags.split(/[ ,]+/).filter((w) => w.startsWith('-'));
  return { flags: e.flags, names, description: e.description, value: null, defaultValue: null };
}

function walk(cmd: Command, path: string[], extra: ExtraOption[]): CommandNode {
  const help = cmd.createHelp();
  return {
    name: cmd.name(),
    aliases: cmd.aliases(),
    path,
    description: help.commandDescription(cmd),
    usage: help.commandUsage(cmd),
    options: [...extra.map(extraNode), ...help.visibleOptions(cmd).map(optionNode)],
    // registeredArguments, not visibleArguments: Help shows arguments only when one has a description.
    arguments: cmd.registeredArguments.map((a) => ({
      name: a.name(),
      description: a.description ?? '',
      required: a.required,
      variadic: a.variadic,
      value: kindOf(a.name(), a.argChoices ?? markedChoices(a.parseArg)),
    })),
    // commander's implicit `help [command]` is left out: `--help` covers it on every command.
    commands: help.visibleCommands(cmd).filter((c) => c.name() !== 'help' || cmd.commands.includes(c)).map((c) => walk(c, [...path, c.name()], [])),
  };
}

export function commandTree(program: Command, rootExtras: ExtraOption[] = []): CommandNode {
  return walk(program, [], rootExtras);
}

/** Every command of the tree, depth first, the root first. */
export function allCommands(root: CommandNode): CommandNode[] {
  return [root, ...root.commands.flatMap(allCommands)];
}
