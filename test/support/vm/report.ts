/** Failure messages for boot tests: everything needed to see where a boot stopped. */
import { type BootResult, tail } from './qemu.js';

// iPXE and OVMF draw with ANSI escapes; stripped so the log reads in a test report.
export function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;=?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

export function describeBoot(what: string, result: BootResult, extra: Record<string, string> = {}): string {
  const parts = [
    `${what}: ${result.timedOut ? `timed out after ${result.durationMs} ms` : result.failedOn ? `stopped after ${result.durationMs} ms: the console showed "${result.failedOn}"` : `QEMU exited with ${result.exitCode} after ${result.durationMs} ms`}`,
    `command: ${result.command}`,
  ];
  if (result.stderr.trim()) parts.push(`qemu stderr:\n${result.stderr.trim()}`);
  for (const [k, v] of Object.entries(extra)) parts.push(`${k}:\n${v.trim() || '(empty)'}`);
  parts.push(`serial console (last 60 lines):\n${tail(plain(result.serial))}`);
  return parts.join('\n\n');
}

/** Throws with the whole story unless the serial log shows `marker`. */
export function assertBooted(what: string, result: BootResult, marker: string, extra: Record<string, string> = {}): void {
  if (!result.serial.includes(marker)) throw new Error(`${describeBoot(what, result, extra)}\n\nexpected the serial log to contain "${marker}"`);
}
