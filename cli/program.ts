/** The `skyboot` program: commander wiring, error reporting and exit codes (0 ok, 1 failed, 2 usage). */
import { Command, CommanderError } from 'commander';
import { CliError, graphqlClient, clientConfig } from './client.js';
import { registerBootCommands } from './bootCommands.js';
import { registerImageCommands, type CliIo } from './imageCommands.js';
import { registerSiteCommands } from './siteCommands.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('skyboot')
    .description(`Skyboot control-plane CLI (GraphQL at \${SKYBOOT_URL:-http://127.0.0.1:4000/graphql}; token from SKYBOOT_TOKEN or \${SKYBOOT_DATA_DIR:-.skyboot}/admin.token)`)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerImageCommands(program, io);
  registerBootCommands(program, io);
  registerSiteCommands(program, io);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

export async function runCli(argv: string[], io?: Partial<CliIo>): Promise<number> {
  const full: CliIo = {
    gql: io?.gql ?? graphqlClient(clientConfig()),
    out: io?.out ?? ((l) => process.stdout.write(`${l}\n`)),
    err: io?.err ?? ((l) => process.stderr.write(`${l}\n`)),
    tty: io?.tty ?? Boolean(process.stderr.isTTY),
    ...(io?.signal ? { signal: io.signal } : {}),
  };
  try {
    await buildProgram(full).parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      full.err(`skyboot: ${err.message}`);
      return err.exitCode;
    }
    full.err(`skyboot: ${(err as Error).message}`);
    return 1;
  }
}
