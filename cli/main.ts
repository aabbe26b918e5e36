/** Entry for `npx skyboot` (bin/skyboot.js). Ctrl-C stops an upload; re-running the push resumes it. */
import { runCli } from './program.js';

const abort = new AbortController();
process.once('SIGINT', () => {
  process.stderr.write('\nskyboot: interrupted; re-run the same command to resume\n');
  abort.abort();
  process.exit(130);
});
process.exitCode = await runCli(process.argv, { signal: abort.signal });
