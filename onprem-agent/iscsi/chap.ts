/**
 * The site's CHAP secrets. They live in one 0600 file in the agent data dir and reach a backend
 * only at apply time, wrapped in Secret so a log line or a JSON dump prints "[redacted]".
 */
import { randomInt } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../sync/atomicFile.js';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { BadUserInputError } from '../../schema/errors.js';
import type { ChapPolicy } from './desired.js';

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
  secret: Secret;
  mutualSecret?: Secret;
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
 * Reads the site's secrets, creating them on first use. Every agent of a site must present the
 * same secrets, so a second agent is seeded by copying this file (the cloud does not carry them yet).
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
