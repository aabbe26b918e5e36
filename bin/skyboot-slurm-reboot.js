#!/usr/bin/env node
// Slurm's RebootProgram (SlurmctldParameters=reboot_from_controller): argv[1] the nodes to reboot.
// The bundle from `npm run build:cli` when fresh, else the TypeScript through tsx (launch.js).
import { launch } from './launch.js';

await launch('skyboot-slurm-reboot', 'cli/slurmRebootMain.ts');
