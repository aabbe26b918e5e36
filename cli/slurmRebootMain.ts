/** Entry for `skyboot-slurm-reboot` (bin/skyboot-slurm-reboot.js), run by slurmctld as RebootProgram. */
import { runSlurmReboot } from './slurmReboot.js';

process.exitCode = await runSlurmReboot(process.argv.slice(2), process.env, {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
});
