/** Helpers shared by the Redfish integration tests: fleets as targets, log capture, temp dirs, the CLI. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { CredentialResolver } from '../../../onprem-agent/redfish/credentials.js';
import type { SimulatedFleet } from '../../../onprem-agent/redfish/simulator/fleet.js';
import type { BmcAddress } from '../../../onprem-agent/redfish/transport.js';

export function targetsOf(fleet: SimulatedFleet): BmcAddress[] {
  return fleet.bmcs.map((b) => ({ host: b.host, port: b.port, scheme: b.scheme }));
}

/** The fleet's own account as a catch-all rule, with the environment kept out of it. */
export function fleetCredentials(fleet: SimulatedFleet, password = fleet.password): CredentialResolver {
  return new CredentialResolver([{ match: '*', username: fleet.username, password }], {});
}

/** A pino logger at trace level writing into memory, so a test can read every line logged. */
export function capturedLogger(): { logger: Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: pino({ level: 'trace' }, sink), text: () => chunks.join('') };
}

export function tempDir(prefix: string): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** Runs `skyboot-agent ARGS` as a child process, as an operator would; never throws on a non-zero exit. */
export async function agentCli(args: string[], env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(repoRoot, 'bin', 'skyboot-agent.js'), ...args], {
      cwd: repoRoot, env: { ...process.env, SKYBOOT_LOG_LEVEL: 'warn', ...env }, timeout: 60_000, maxBuffer: 32 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? -1 };
  }
}
