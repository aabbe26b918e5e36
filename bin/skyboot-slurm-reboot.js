#!/usr/bin/env node
// Slurm's RebootProgram (SlurmctldParameters=reboot_from_controller): argv[1] the nodes to reboot.
import { register } from 'tsx/esm/api';
register();
await import('../cli/slurmRebootMain.ts');
