/** Processes by command line, as the tests of the agent's server processes find their children. */
import { execFileSync } from 'node:child_process';

/** The pids whose command line matches `pattern` (pgrep -f); none is an empty list. */
export function pidsMatching(pattern: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch (err) {
    // pgrep exits 1 when nothing matches: none running right now.
    if ((err as { status?: number }).status === 1) return [];
    throw err;
  }
}
