/** The `skyboot` program: commander wiring, error reporting and exit codes (0 ok, 1 failed, 2 usage). */
import { Command, CommanderError } from 'commander';
import { CliError, graphqlClient, clientConfig } from './client.js';
import { registerBootCommands } from './bootCommands.js';
import { registerImageCommands, type CliIo } from './imageCommands.js';
import { registerSiteCommands } from './siteCommands.js';
import { registerLoginCommands } from './loginCommands.js';
import { registerImportCommand } from './importCommand.js';

export function buildProgram(io: CliIo): Command {
  const program = new Command('skyboot')
    .description('Skyboot control-plane CLI: `skyboot login` once per profile, then any command (SKYBOOT_URL and SKYBOOT_TOKEN override the profile)')
    .option('--profile <name>', 'profile: API URL and login (default: $SKYBOOT_PROFILE or "default")')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) });
  registerImageCommands(program, io);
  registerBootCommands(program, io);
  registerSiteCommands(program, io);
  registerLoginCommands(program, io);
  registerImportCommand(program, io);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  return program;
}

/** `--profile X` or `--profile=X` anywhere on the line (commander takes program options before and after the subcommand). */
function profileFlag(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--profile') return argv[i + 1];
    if (argv[i]!.startsWith('--profile=')) return argv[i]!.slice('--profile='.length);
  }
  return undefined;
}

export async function runCli(argv: string[], io?: Partial<CliIo>): Promise<number> {
  let config: ReturnType<typeof clientConfig> | undefined;
  const lazyConfig = () => (config ??= clientConfig(process.env, profileFlag(argv)));
  const full: CliIo = {
    gql: io?.gql ?? ((q, v) => graphqlClient(lazyConfig())(q, v)),
    get apiUrl() {
      return io?.apiUrl ?? lazyConfig().url;
    },
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
