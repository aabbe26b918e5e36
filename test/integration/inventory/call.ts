/** Calls the inventory handler in-process as the gateway would, with an identity per role. */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler as sites } from '../../../functions/sites/handler.js';
import { startAuthServer, type AuthServer } from '../../../local/authServer.js';
import type { ErrorShape } from '../../../schema/errors.js';
import { handler } from '../../../functions/inventory/handler.js';
import type { Identity } from '../../../functions/shared/identity.js';

export const admin: Identity = { subject: 'alice-admin', roles: ['admin'], site: null };
export const operator: Identity = { subject: 'olga-operator', roles: ['operator'], site: null };
export const viewer: Identity = { subject: 'victor-viewer', roles: ['viewer'], site: null };
export const agentOf = (site: string): Identity => ({ subject: `agent-${site}`, roles: ['agent'], site });

export interface CallSpec {
  operation: string;
  args?: Record<string, unknown>;
  source?: Record<string, unknown>;
  /** The result fields a GraphQL selection names (the gateway passes them for operations that ask). */
  selection?: string[];
}

/** One event with several calls, as the gateway batches a request's fields. */
export async function callMany(identity: Identity, calls: CallSpec[]) {
  const out = await handler({ domain: 'inventory', identity, requestId: randomUUID(), calls: calls.map((c) => ({ operation: c.operation, args: c.args ?? {}, ...(c.source ? { source: c.source } : {}), ...(c.selection ? { selection: c.selection } : {}) })) });
  return out.results;
}

/** The operation's value; fails the test with the error when it returned one. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function ok<T = any>(identity: Identity, operation: string, args: Record<string, unknown> = {}, source?: Record<string, unknown>): Promise<T> {
  const [r] = await callMany(identity, [{ operation, args, ...(source ? { source } : {}) }]);
  if (!r!.ok) throw new Error(`${operation} failed: ${r!.error.code} ${r!.error.message}`);
  return r!.value as T;
}

/** As ok(), for a caller whose selection names `selection` (e.g. upsertComponents' components). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function okSelecting<T = any>(identity: Identity, operation: string, args: Record<string, unknown>, selection: string[]): Promise<T> {
  const [r] = await callMany(identity, [{ operation, args, selection }]);
  if (!r!.ok) throw new Error(`${operation} failed: ${r!.error.code} ${r!.error.message}`);
  return r!.value as T;
}

/** The operation's error; fails the test when it succeeded. */
export async function fails(identity: Identity, operation: string, args: Record<string, unknown> = {}): Promise<ErrorShape> {
  const [r] = await callMany(identity, [{ operation, args }]);
  if (r!.ok) throw new Error(`${operation} succeeded but an error was expected: ${JSON.stringify(r!.value).slice(0, 300)}`);
  return r!.error;
}

/** Deterministic MAC for component i, so bulk tests need no bookkeeping. */
export function macFor(i: number, prefix = 0x02): string {
  const b = [prefix, 0, (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * Creates sites as an admin does (the sites domain's createSite, which also issues the agent's
 * credentials: local keys in a temp dir, as the local stack has them).
 */
let authServer: AuthServer | undefined;

/**
 * Sites through the sites domain's own createSite, which registers each site's agent client with
 * a real authorization server (the local one, started once per test file, as the local stack runs it).
 */
export async function createSites(...names: string[]): Promise<void> {
  if (!authServer) {
    authServer = await startAuthServer({ dataDir: mkdtempSync(join(tmpdir(), 'skyboot-auth-')), port: 0 });
    process.env.SKYBOOT_JWT_ISSUER = authServer.issuer;
    process.env.SKYBOOT_CLIENT_REGISTRATION_TOKEN = authServer.registrationToken;
    process.env.SKYBOOT_AGENT_CREDENTIALS = 'local';
  }
  const out = await sites({ domain: 'sites', identity: admin, requestId: randomUUID(), calls: names.map((name) => ({ operation: 'createSite', args: { input: { name } } })) });
  const failed = out.results.find((r) => !r.ok);
  if (failed && !failed.ok) throw new Error(`createSite failed: ${failed.error.code} ${failed.error.message}`);
}

/** Stops the authorization server createSites started (call from afterAll). */
export async function stopSitesAuth(): Promise<void> {
  await authServer?.stop();
  authServer = undefined;
}
