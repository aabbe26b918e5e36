/**
 * A section-1 man page (man(7) macros) from a command tree (commandTree.ts): every command with
 * its usage, description, arguments and options, as `--help` shows them. No date in the header,
 * so regenerating unchanged definitions gives the same bytes (the committed pages are checked).
 */
import { allCommands, type CommandNode, type OptionNode } from './commandTree.js';

export interface ManSection {
  title: string;
  /** Paragraphs, or `[term, text]` pairs shown as a tagged list. */
  body: Array<string | [string, string]>;
}

export interface ManPageInput {
  version: string;
  /** One line for NAME, after the program name. */
  summary: string;
  /** Paragraphs for DESCRIPTION. */
  description: string[];
  /** Sections after COMMANDS (ENVIRONMENT, EXIT STATUS, FILES, SEE ALSO, …). */
  sections: ManSection[];
}

/**
 * Text safe in a roff line: backslashes escaped, a leading `.` or `'` kept from being a request,
 * anything beyond ASCII as a \[uXXXX] escape (groff reads its input as Latin-1 unless preconv runs).
 */
function text(s: string): string {
  return s.replace(/\\/g, '\\e').replace(/\s+/g, ' ').trim().replace(/^([.'])/, '\\&$1')
    .replace(/[^\x20-\x7e]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
}

/** Option and command words: their hyphens are minus signs, so they can be copied and searched. */
const literal = (s: string): string => text(s).replace(/-/g, '\\-');

/** `-o, --output <format>`: the names bold, the placeholder italic. */
function optionTerm(o: OptionNode): string {
  return o.flags.split(/(\s*[<[][^>\]]*[>\]])/).filter(Boolean)
    .map((part) => (/^\s*[<[]/.test(part) ? ` \\fI${literal(part.trim())}\\fR` : `\\fB${literal(part)}\\fR`))
    .join('');
}

function optionLines(options: OptionNode[]): string[] {
  return options.flatMap((o) => {
    // The values, unless the description already names them all ("proxy | full | off").
    const unlisted = o.value?.kind === 'choices' && !o.value.values.every((v) => o.description.includes(v)) ? o.value.values : [];
    const notes = [...(o.defaultValue !== null ? [`default: ${o.defaultValue}`] : []), ...(unlisted.length ? [`one of: ${unlisted.join(', ')}`] : [])];
    return ['.TP', optionTerm(o), text(`${o.description}${notes.length ? ` (${notes.join('; ')})` : ''}`)];
  });
}

function commandLines(c: CommandNode): string[] {
  // commander's usage names the parents too: `skyboot component list [options] [targets...]`.
  const lines = [`.SS "${literal(c.usage).replace(/"/g, '')}"`];
  if (c.description) lines.push(text(c.description));
  const args = c.arguments.filter((a) => a.description);
  if (args.length) lines.push(...args.flatMap((a) => ['.TP', `\\fI${literal(a.name)}\\fR`, text(a.description)]));
  const own = c.options.filter((o) => !o.names.includes('--help'));
  if (own.length) lines.push(...optionLines(own));
  return lines;
}

function sectionLines(s: ManSection): string[] {
  return [`.SH ${text(s.title).toUpperCase()}`, ...s.body.flatMap((b) => (typeof b === 'string' ? ['.PP', text(b)] : ['.TP', `\\fB${literal(b[0])}\\fR`, text(b[1])]))];
}

export function manPage(root: CommandNode, input: ManPageInput): string {
  const name = root.name;
  const commands = allCommands(root).filter((c) => c !== root);
  // A program of subcommands lists them; a single command (skyboot-slurm-reboot) its arguments.
  const synopsis = commands.length
    ? [`.B ${literal(name)}`, '[\\fIoptions\\fR] \\fIcommand\\fR [\\fIarguments\\fR]', '.br', `.B ${literal(name)}`, '\\fIcommand\\fR \\fB\\-\\-help\\fR']
    : [`.B ${literal(name)}`, literal(root.usage.slice(name.length))];
  const args = root.arguments.filter((a) => a.description);
  const lines = [
    `.\\" Generated from the ${name} command definitions (npm run docs:man); do not edit.`,
    `.TH ${literal(name.toUpperCase())} 1 "" "${text(`${name} ${input.version}`)}" "User Commands"`,
    '.SH NAME',
    `${literal(name)} \\- ${text(input.summary)}`,
    '.SH SYNOPSIS',
    ...synopsis,
    '.SH DESCRIPTION',
    ...input.description.flatMap((p) => ['.PP', text(p)]),
    ...(commands.length || !args.length ? [] : ['.SH ARGUMENTS', ...args.flatMap((a) => ['.TP', `\\fI${literal(a.name)}\\fR`, text(a.description)])]),
    '.SH OPTIONS',
    ...optionLines(root.options),
    ...(commands.length ? ['.SH COMMANDS', ...commands.flatMap(commandLines)] : []),
    ...input.sections.flatMap(sectionLines),
  ];
  return `${lines.join('\n')}\n`;
}
