/**
 * `npm run docs:man`: docs/man/skyboot.1, skyboot-agent.1 and skyboot-slurm-reboot.1 from the
 * programs' commander definitions (schema/cli/manPage.ts). test/unit/docs/manPages.test.ts checks the
 * committed pages against a fresh generation and renders them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { buildProgram, ROOT_EXTRAS } from '../cli/program.js';
import { buildAgentProgram } from '../onprem-agent/cli/program.js';
import { buildSlurmRebootProgram, SLURM_REBOOT_ENVIRONMENT } from '../cli/slurmReboot.js';
import { DEFAULT_DATA_DIR } from '../onprem-agent/config.js';
import { commandTree } from '../schema/cli/commandTree.js';
import { EXIT_CODES } from '../schema/cli/exitCodes.js';
import { manPage, type ManSection } from '../schema/cli/manPage.js';
import { packageVersion } from '../schema/version.js';

export const MAN_DIR = new URL('../docs/man/', import.meta.url);

const exitStatus: ManSection = { title: 'Exit status', body: EXIT_CODES.map(({ code, meaning }) => [String(code), meaning]) };

/** Building the program only defines commands: nothing here may be called. */
const unused = (): never => {
  throw new Error('the man page generator runs no command');
};

export function manPages(): Record<string, string> {
  const version = packageVersion();
  const skyboot = manPage(commandTree(buildProgram({ gql: unused, out: unused, err: unused, tty: false }), ROOT_EXTRAS), {
    version,
    summary: 'the Skyboot control-plane CLI (inventory, images, boot configuration, power, boot sessions)',
    description: [
      'skyboot talks GraphQL to a Skyboot gateway. Run skyboot login once per profile, then any command. Commands that name nodes take targets: xnames, Slurm-style hostlists (x1000c0s[0-7]b0n[0-1]), NIDs (nid[0001-0128]), @group and role:compute, and --site.',
      'Lists print a table; -o wide|json|yaml|csv picks another format and --no-headers drops the header row. Data goes to stdout, messages to stderr. skyboot COMMAND --help lists every option.',
    ],
    sections: [
      { title: 'Environment', body: [
        ['SKYBOOT_URL', 'the GraphQL URL, over the profile'],
        ['SKYBOOT_TOKEN', 'a bearer token, over the profile'],
        ['SKYBOOT_PROFILE', 'the profile when --profile is not given (default: "default")'],
        ['XDG_CONFIG_HOME', 'profiles and tokens live in $XDG_CONFIG_HOME/skyboot (default ~/.config/skyboot), mode 0600'],
      ] },
      exitStatus,
      { title: 'See also', body: ['skyboot-agent(1); docs/cli.md and docs/graphql.md in the Skyboot repository.'] },
    ],
  });
  const agent = manPage(commandTree(buildAgentProgram()), {
    version,
    summary: 'the Skyboot on-prem agent: PXE (DHCP, TFTP, HTTP), Redfish, iSCSI, offline-first site cache',
    description: [
      'skyboot-agent run starts every service and serves each boot from the site snapshot and artifacts it keeps in its data dir, so a cloud outage never delays a boot. The other commands do one thing and exit.',
      `Configuration comes from one JSON file (--config or SKYBOOT_AGENT_CONFIG), environment variables and flags: a flag beats the environment, which beats the file. Every command uses the same data dir: --data-dir, else SKYBOOT_AGENT_DATA_DIR, else the file's dataDir, else ${DEFAULT_DATA_DIR}.`,
    ],
    sections: [
      { title: 'Environment', body: [
        ['SKYBOOT_AGENT_CONFIG', 'the config file when --config is not given'],
        ['SKYBOOT_AGENT_<KEY>', 'a config key in upper snake case, e.g. SKYBOOT_AGENT_DATA_DIR for dataDir'],
        ['SKYBOOT_BMC_USERNAME, SKYBOOT_BMC_PASSWORD', 'a BMC account for discover, stored encrypted in the data dir as the "*" rule'],
        ['SKYBOOT_LOG_LEVEL', 'the structured log level on stderr (default info)'],
      ] },
      { title: 'Files', body: [
        [DEFAULT_DATA_DIR, 'the default data dir: snapshot, artifact cache, outbox, discovery, Redfish pins and credentials'],
        ['/etc/skyboot-agent/config.json', 'the config file the systemd unit passes'],
      ] },
      exitStatus,
      { title: 'See also', body: ['skyboot(1); docs/agent.md and docs/redfish.md in the Skyboot repository.'] },
    ],
  });
  const slurmReboot = manPage(commandTree(buildSlurmRebootProgram()), {
    version,
    summary: "Slurm's RebootProgram: applies the staged Skyboot boot state of the nodes Slurm reboots",
    description: [
      'slurmctld runs skyboot-slurm-reboot for scontrol reboot when slurm.conf sets SlurmctldParameters=reboot_from_controller and RebootProgram to it; with scontrol reboot ASAP, Slurm drains each node and runs the program as the node runs out of jobs. Stage the new boot state first (a boot session with stage: true). It maps each Slurm node name to an xname (SKYBOOT_SLURM_NODE_MAP, else the name format over the inventory\'s NIDs) and calls applyStaged for them: the site\'s agent then power-cycles each node into its staged image, and the node\'s slurmd registering after the boot completes Slurm\'s reboot.',
      "Each call prints one JSON line: the nodes, their xnames, the names it could not map, and applyStaged's succeeded, failed and ignored lists. slurmctld drops that output; SKYBOOT_SLURM_REBOOT_LOG keeps it.",
    ],
    sections: [
      { title: 'Environment', body: SLURM_REBOOT_ENVIRONMENT },
      { title: 'Exit status', body: [
        ['0', 'every node was applied or had nothing staged'],
        ['1', 'a name has no xname, a node failed, or the call did not go through (Slurm then times the nodes out after ResumeTimeout)'],
        ['2', 'a usage error'],
      ] },
      { title: 'See also', body: ['skyboot(1), skyboot-agent(1), slurm.conf(5); docs/orchestration.md in the Skyboot repository.'] },
    ],
  });
  return { 'skyboot.1': skyboot, 'skyboot-agent.1': agent, 'skyboot-slurm-reboot.1': slurmReboot };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  mkdirSync(MAN_DIR, { recursive: true });
  for (const [file, page] of Object.entries(manPages())) {
    writeFileSync(new URL(file, MAN_DIR), page);
    process.stdout.write(`docs/man/${file}\n`);
  }
}
