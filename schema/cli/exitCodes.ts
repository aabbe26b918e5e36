/** The exit codes skyboot and skyboot-agent share (docs/cli.md): one list for `--help` and the man pages. */
export const EXIT_CODES: ReadonlyArray<{ code: number; meaning: string }> = [
  { code: 0, meaning: 'success (also --help and --version)' },
  { code: 1, meaning: "the request failed: refused by the API (the message names the input path and value), not found, a node's power action failed, a wait timed out, the API unreachable" },
  { code: 2, meaning: 'usage: unknown command or option, a bad flag value (the allowed values are listed), a malformed hostlist' },
  { code: 130, meaning: 'interrupted (Ctrl-C)' },
];

/** `  0    success …`, meanings wrapped under themselves at 100 columns. */
export function exitCodesText(): string {
  const indent = ' '.repeat(7);
  return EXIT_CODES.map(({ code, meaning }) => {
    const lines: string[] = [];
    let line = `  ${String(code).padEnd(5)}`;
    for (const word of meaning.split(' ')) {
      if (line.trim() && line.length + word.length > 100 && line.length > indent.length) {
        lines.push(line.trimEnd());
        line = indent;
      }
      line += `${word} `;
    }
    lines.push(line.trimEnd());
    return lines.join('\n');
  }).join('\n');
}
