/**
 * Runs one workload-manager command (the exec hook, scontrol, squeue) with a bounded lifetime:
 * stdin is written and closed, stdout/stderr are collected, and past `timeoutMs` the process is
 * killed (SIGKILL: a hung hook must not hold up the rollout) and the call fails.
 */
import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export class CommandFailedError extends Error {
  constructor(readonly command: string, reason: string) {
    super(`${command}: ${reason}`);
    this.name = 'CommandFailedError';
  }
}

export interface RunOptions {
  stdin?: string;
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

/** Resolves with the exit status (any); rejects only when the command cannot start or times out. */
export function runCommand(command: string, args: readonly string[], opts: RunOptions): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // A command that exits without reading its stdin closes the pipe under us: not our failure.
    child.stdin.on('error', () => {});
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new CommandFailedError(command, err.code === 'ENOENT' ? 'not found (check the path or PATH)' : err.message));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new CommandFailedError(command, `no answer within ${opts.timeoutMs} ms (killed)`));
      else resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
