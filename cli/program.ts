/** The `skyboot` program: commander wiring, error reporting and exit codes (EXIT_CODES_HELP). */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../schema/version.js';
import { CliError, graphqlClient, clientConfig } from './client.js';
import { registerBootCommands } from './bootCommands.js';
import { registerSessionCommands } from './sessionCommands.js';
import { registerImageCommands, type CliIo } from './imageCommands.js';
import { registerSiteCommands } from './siteCommands.js';
import { registerLoginCommands } from './loginCommands.js';
import { registerComponentCommands } from './componentCommands.js';
import { registerGroupCommands } from './groupCommands.js';
import { registerRedfishCommands } from './redfishCommands.js';
import { registerPowerCommands } from './powerCommands.js';
import { registerDiscoveryCommands } from './discoveryCommands.js';
import { registerAuditCommands } from './auditCommands.js';
import { registerImportCommand } from './importCommand.js';
import { registerCompletionCommand } from '../schema/cli/completionCommand.js';
import type { ExtraOption } from '../schema/cli/commandTree.js';
import { exitCodesText } from '../schema/cli/exitCodes.js';

/** Exit codes, the same for skyboot and skyboot-agent (docs/cli.md, schema/cli/exitCodes.ts). */
export const EXIT_CODES_HELP = `
skyboot --version (or -V) prints the version.

Exit codes:
${exitCodesText()}`;

/** runCli answers `--version` before commander parses (see there); completion and man pages list it still. */
export const ROOT_EXTRAS: ExtraOption[] = [{ flags: '-V, --version', description: 'print the version' }];

export function buildProgram(io: CliIo): Command {
  const program = new Command('skyboot')
    .description('Skyboot control-plane CLI: `skyboot login` once per profile, then any command (SKYBOOT_URL and SKYBOOT_TOKEN override the profile)')
    .addHelpText('after', EXIT_CODES_HELP)
    .option('--profile <name>', 'profile: API URL and login (default: $SKYBOOT_PROFILE or "default")')
    .exitOverride()
    // Usage errors and help go through io like every other line, so tests and callers see them.
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });
  registerImageCommands(program, io);
  registerBootCommands(program, io);
  registerSessionCommands(program, io);
  registerSiteCommands(program, io);
  registerLoginCommands(program, io);
  registerComponentCommands(program, io);
  registerGroupCommands(program, io);
  registerRedfishCommands(program, io);
  registerPowerCommands(program, io);
  registerDiscoveryCommands(program, io);
  registerAuditCommands(program, io);
  registerImportCommand(program, io);
  registerCompletionCommand(program, io.out, ROOT_EXTRAS);
  const overrideAll = (c: Command): void => {
    c.exitOverride();
    c.commands.forEach(overrideAll);
  };
  overrideAll(program);
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
  // Only as the first argument: `image push --version 9.4` is the image's version, and commander
  // would take a program-level --version anywhere on the line.
  if (argv[2] === '--version' || argv[2] === '-V') {
    full.out(packageVersion());
    return 0;
  }
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
