/**
 * Kernel-parameter validation, shared by the cloud (refuses bad input when a boot
 * configuration is set) and the agent (re-checks what it renders, including its own iSCSI
 * parameters). The parameters end up on an iPXE `kernel` line, so anything iPXE would read as
 * syntax rather than as text is refused, with its name and 1-based position:
 * - control characters (newline/CR end the command and start a new one; NUL truncates);
 * - `${` (iPXE expands settings everywhere on a line, so a value could read or inject any setting);
 * - `||`, `&&`, `;` (iPXE command terminators: the rest would run as a new command);
 * - `#` (a token starting with it comments out the rest of the line, `#!ipxe` included);
 * - `\` (escape character in iPXE's parser), backtick, and anything outside printable ASCII
 *   (the kernel command line is bytes; a non-ASCII look-alike hides what is really booted).
 */
import { BadUserInputError } from '../schema/errors.js';

export const MAX_KERNEL_PARAMETERS_LENGTH = 4096;

/** Keys Skyboot itself puts on the command line; a user value for them would be ambiguous. */
export const RESERVED_KERNEL_PARAMETERS = ['BOOTIF', 'xname', 'nid', 'initrd', 'skyboot.token'] as const;

const SEQUENCES: { text: string; why: string }[] = [
  { text: '${', why: 'iPXE expands ${…} settings on every line' },
  { text: '||', why: 'iPXE reads || as a command terminator' },
  { text: '&&', why: 'iPXE reads && as a command terminator' },
];

const CHARACTERS: Record<string, string> = {
  ';': 'iPXE reads ; as a command separator',
  '#': 'iPXE treats # as the start of a comment (and #!ipxe as a script header)',
  '\\': 'iPXE treats \\ as an escape character',
  '`': 'backticks have no meaning on a kernel line and are refused to keep scripts unambiguous',
};

const CONTROL_NAMES: Record<number, string> = {
  0x00: 'NUL',
  0x09: 'tab',
  0x0a: 'newline',
  0x0d: 'carriage return',
  0x1b: 'escape',
  0x7f: 'DEL',
};

function describe(ch: string): string {
  const code = ch.codePointAt(0)!;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CONTROL_NAMES[code];
  if (name) return `${name} (${hex})`;
  if (code < 0x20) return `control character ${hex}`;
  if (code > 0x7e) return `non-ASCII character "${ch}" (${hex})`;
  return `"${ch}"`;
}

export interface KernelParameterOptions {
  field?: string;
  /** Keys (before `=`) that may not appear; defaults to RESERVED_KERNEL_PARAMETERS. */
  reserved?: readonly string[];
  maxLength?: number;
}

/**
 * Returns the parameters with runs of spaces collapsed (the form stored and rendered), or throws
 * BadUserInputError naming the field, the offending character or sequence and its position.
 */
export function validateKernelParameters(value: string, opts: KernelParameterOptions = {}): string {
  const field = opts.field ?? 'kernelParameters';
  const max = opts.maxLength ?? MAX_KERNEL_PARAMETERS_LENGTH;
  if (typeof value !== 'string') throw new BadUserInputError(field, 'must be a string');
  // Characters first, so a newline is reported as a newline even when the value is also too long.
  let pos = 0;
  for (const ch of value) {
    pos += 1;
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code > 0x7e) {
      throw new BadUserInputError(field, `${describe(ch)} at position ${pos} is not allowed: only printable ASCII may appear on an iPXE kernel line`);
    }
    const why = CHARACTERS[ch];
    if (why) throw new BadUserInputError(field, `${describe(ch)} at position ${pos} is not allowed: ${why}`);
  }
  for (const s of SEQUENCES) {
    const at = value.indexOf(s.text);
    if (at >= 0) throw new BadUserInputError(field, `"${s.text}" at position ${at + 1} is not allowed: ${s.why}`);
  }
  if (value.length > max) throw new BadUserInputError(field, `is ${value.length} characters long; the limit is ${max}`);
  const tokens = value.split(' ').filter((t) => t.length > 0);
  const reserved = opts.reserved ?? RESERVED_KERNEL_PARAMETERS;
  let offset = 0;
  for (const token of tokens) {
    offset = value.indexOf(token, offset);
    const key = token.split('=')[0]!;
    if (reserved.includes(key)) {
      throw new BadUserInputError(field, `"${key}" at position ${offset + 1} is reserved: Skyboot sets it for each node`);
    }
    offset += token.length;
  }
  return tokens.join(' ');
}

/** The value of `key=` in a validated parameter string, or undefined. */
export function kernelParameter(params: string, key: string): string | undefined {
  for (const token of params.split(' ')) {
    const eq = token.indexOf('=');
    if ((eq < 0 ? token : token.slice(0, eq)) === key) return eq < 0 ? '' : token.slice(eq + 1);
  }
  return undefined;
}
