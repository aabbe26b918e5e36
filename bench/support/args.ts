/** `--name N` from the command line, or the default; a value that is not a number stops the run naming the flag. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n)) throw new Error(`--${name}: ${JSON.stringify(process.argv[i + 1] ?? '')} is not a number`);
  return n;
}
