/** Entry for `skyboot-agent` (bin/skyboot-agent.js and the site bundle). */
import { buildAgentProgram } from './program.js';

await buildAgentProgram().parseAsync(process.argv);
