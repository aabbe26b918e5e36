/**
 * CHAP secrets. The site's key lives in one 0600 file in the agent data dir; each node's secret
 * is derived from it (HMAC-SHA256 of the key and the xname), so every agent of a site that holds
 * the same file computes the same per-node secrets (multipath) without storing or sending them,
 * and one node's secret is worth nothing on another node's target. Secrets reach a backend only
 * at apply time, and a node only in its own boot script, wrapped in Secret so a log line or a
 * JSON dump prints "[redacted]".
 */
import { createHmac, randomInt } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { BadUserInputError } from '../../schema/errors.js';
import type { ChapPolicy } from './desired.js';
import { nodeChapUser, xnameOfChapUser } from './naming.js';

export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return '[redacted]';
  }
}

export interface ChapSecrets {
  policy: ChapPolicy;
  /** The site key nodes' secrets are derived from; never bound as an account itself. */
  secret: Secret;
  mutualSecret?: Secret;
}

/** One CHAP account as a backend creates it. */
export interface ChapAccount {
  user: string;
  secret: Secret;
}

/** The accounts one target gets: one incoming per admitted node, the site's outgoing for mutual CHAP. */
export interface TargetChapAccounts {
  incoming: ChapAccount[];
  outgoing: ChapAccount | null;
}

/** Letters and digits only: a secret must survive dracut's colon-separated netroot unquoted. */
const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
/** RFC 3720 wants at least 12 bytes; Windows and some HBAs reject more than 16. */
export const CHAP_SECRET_LENGTH = 16;

export function generateChapSecret(length = CHAP_SECRET_LENGTH): Secret {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return new Secret(s);
}

/**
 * The node's secret: HMAC-SHA256(site key, "skyboot-chap-v1:" + xname), read as base-56 digits
 * of ALPHABET. Deterministic, so a site's agents agree; one-way, so a node that reads its own
 * secret learns nothing of the key or of another node's secret.
 */
export function nodeChapSecret(site: ChapSecrets, xname: string): Secret {
  const mac = createHmac('sha256', site.secret.reveal()).update(`skyboot-chap-v1:${xname}`).digest();
  let s = '';
  // 16 bytes of 32, one per character: the modulo bias of 256 mod 56 leaves well over 80 bits.
  for (let i = 0; i < CHAP_SECRET_LENGTH; i++) s += ALPHABET[mac[i]! % ALPHABET.length];
  return new Secret(s);
}

export function nodeChapAccount(site: ChapSecrets, xname: string): ChapAccount {
  const user = nodeChapUser(site.policy.user, xname);
  return { user, secret: nodeChapSecret(site, xnameOfChapUser(site.policy.user, user)!) };
}

/** The account behind a user name this site's nodes log in as, or null for any other name. */
export function accountForUser(site: ChapSecrets, user: string): ChapAccount | null {
  const xname = xnameOfChapUser(site.policy.user, user);
  return xname ? { user, secret: nodeChapSecret(site, xname) } : null;
}

/** The outgoing (target) account of mutual CHAP, or null for one-way. */
export function targetChapAccount(site: ChapSecrets): ChapAccount | null {
  return site.policy.mutualUser && site.mutualSecret ? { user: site.policy.mutualUser, secret: site.mutualSecret } : null;
}

/** What one node's dracut needs to log in (and, mutual, to check the target): plain strings for netroot. */
export function nodeKernelChap(site: ChapSecrets, xname: string): { user: string; secret: string; mutualUser?: string; mutualSecret?: string } {
  const own = nodeChapAccount(site, xname);
  const target = targetChapAccount(site);
  return { user: own.user, secret: own.secret.reveal(), ...(target ? { mutualUser: target.user, mutualSecret: target.secret.reveal() } : {}) };
}

export function validateChapSecret(secret: string, field: string): void {
  if (secret.length < 12 || secret.length > 16 || !/^[A-Za-z0-9]+$/.test(secret)) {
    throw new BadUserInputError(field, 'a CHAP secret must be 12-16 letters or digits');
  }
}

interface StoredChap {
  mode: ChapPolicy['mode'];
  user: string;
  secret: string;
  mutualUser?: string;
  mutualSecret?: string;
}

export const CHAP_FILE = 'iscsi-chap.json';

/**
 * Reads the site's key (and mutual secret), creating them on first use. Every agent of a site
 * must derive the same node secrets, so a second agent is seeded by copying this file (the
 * cloud does not carry it yet; docs/iscsi.md).
 */
export async function loadOrCreateChapSecrets(dataDir: string, mode: ChapPolicy['mode'], siteName = 'site'): Promise<ChapSecrets> {
  const path = join(dataDir, CHAP_FILE);
  let stored: StoredChap | undefined;
  try {
    stored = JSON.parse(await readFile(path, 'utf8')) as StoredChap;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!stored || stored.mode !== mode || (mode === 'mutual' && !stored.mutualSecret)) {
    stored = {
      mode,
      user: stored?.user ?? `skyboot-${siteName}`,
      secret: stored?.secret ?? generateChapSecret().reveal(),
      ...(mode === 'mutual' ? { mutualUser: stored?.mutualUser ?? `skyboot-${siteName}-target`, mutualSecret: stored?.mutualSecret ?? generateChapSecret().reveal() } : {}),
    };
    await mkdir(dataDir, { recursive: true });
    await writeFileAtomic(path, JSON.stringify(stored, null, 2), 0o600);
  }
  // A file restored from a backup may have lost its mode; secrets are never group-readable.
  await chmod(path, 0o600);
  validateChapSecret(stored.secret, `${CHAP_FILE}.secret`);
  if (stored.mutualSecret) validateChapSecret(stored.mutualSecret, `${CHAP_FILE}.mutualSecret`);
  const policy: ChapPolicy = mode === 'mutual' ? { mode, user: stored.user, mutualUser: stored.mutualUser! } : { mode, user: stored.user };
  return {
    policy,
    secret: new Secret(stored.secret),
    ...(mode === 'mutual' ? { mutualSecret: new Secret(stored.mutualSecret!) } : {}),
  };
}
