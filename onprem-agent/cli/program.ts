/**
 * The `skyboot-agent` program: `run` starts every service; the other commands do one thing and
 * exit. Each module registers its own commands, so this file only lists them. Built by a
 * function so completion and the man page read the same definitions the parser runs.
 */
import { Command } from 'commander';
import { registerRedfishCommands } from '../redfish/commands.js';
import { registerRunCommands } from '../run/commands.js';
import { inventoryEndpointsFromSnapshot } from '../sync/redfishEndpoints.js';
import { registerIscsiCommands } from '../iscsi/commands.js';
import { outboxSinkFor } from '../orchestrator/discoverySink.js';
import { packageVersion } from '../../schema/version.js';
import { registerCompletionCommand } from '../../schema/cli/completionCommand.js';

export function buildAgentProgram(): Command {
  const program = new Command('skyboot-agent').description('Skyboot on-prem agent: PXE, Redfish, iSCSI, offline-first site cache').version(packageVersion(), '-V, --version', 'print the version')
    // Usage errors exit 2, as skyboot's do (docs/cli.md, exit codes); help and --version 0.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

  const registrations: Array<(p: Command) => void> = [
    (p) => registerRedfishCommands(p, { sinkFor: outboxSinkFor, inventoryEndpoints: inventoryEndpointsFromSnapshot }),
    registerRunCommands,
    registerIscsiCommands,
    (p) => registerCompletionCommand(p, (line) => process.stdout.write(`${line}\n`)),
  ];
  for (const register of registrations) register(program);
  return program;
}
