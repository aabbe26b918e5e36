/**
 * BMC credentials: rules per BMC, per host or per range, from a file or the environment, kept
 * encrypted in the agent's data dir (AES-256-GCM, key file 0600 beside it) so `power` can use
 * what `discover --credentials` was given without the file lying around. Passwords never reach
 * a log line or a report.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { createFileExclusive, writeFileAtomic } from '../sync/atomicFile.js';
import { join } from 'node:path';
import { BadUserInputError } from '../../schema/errors.js';
import { cidrContains, parseCidr, type Cidr } from '../../schema/ip.js';
import type { BmcCredentials } from './client.js';

export interface CredentialRule {
  /** `*`, a CIDR block, a host, or HOST:PORT. */
  match: string;
  username: string;
  password: string;
}

export const ENV_USERNAME = 'SKYBOOT_BMC_USERNAME';
export const ENV_PASSWORD = 'SKYBOOT_BMC_PASSWORD';

function validateRule(r: unknown, where: string): CredentialRule {
  const o = (r ?? {}) as Record<string, unknown>;
  for (const k of ['match', 'username', 'password'] as const) {
    if (typeof o[k] !== 'string' || o[k] === '') throw new BadUserInputError(`${where}.${k}`, `a non-empty string is required`);
  }
  const match = (o.match as string).trim().toLowerCase();
  if (match.includes('/')) parseCidr(match, `${where}.match`);
  else if (match !== '*' && !/^[a-z0-9.-]+(:\d{1,5})?$/.test(match)) throw new BadUserInputError(`${where}.match`, `"${match}" is not *, CIDR, HOST or HOST:PORT`);
  return { match, username: o.username as string, password: o.password as string };
}

function unquote(v: string): string {
  const t = v.trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

/**
 * JSON (`[{"match", "username", "password"}, …]` or `{"rules": [...]}`) or a YAML-lite list:
 * `- match: 10.0.0.0/24` followed by indented `username:` and `password:` lines.
 */
export function parseCredentials(text: string, source = 'credentials'): CredentialRule[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      // The parser's message can quote the file, and the file holds passwords.
      void err;
      throw new BadUserInputError(source, 'not valid JSON');
    }
    const list = Array.isArray(parsed) ? parsed : (parsed as { rules?: unknown }).rules;
    if (!Array.isArray(list)) throw new BadUserInputError(source, 'expected a list of rules or an object with "rules"');
    return list.map((r, n) => validateRule(r, `${source}[${n}]`));
  }
  const rules: Array<Record<string, string>> = [];
  text.split('\n').forEach((line, n) => {
    const l = line.replace(/^\s*#.*$/, '');
    if (!l.trim()) return;
    const m = /^(\s*-\s+|\s+)([A-Za-z]+)\s*:\s*(.*)$/.exec(l);
    if (!m) throw new BadUserInputError(`${source}:${n + 1}`, 'expected "- match: …" or an indented "key: value" line');
    if (m[1]!.includes('-')) rules.push({});
    const current = rules[rules.length - 1];
    if (!current) throw new BadUserInputError(`${source}:${n + 1}`, 'a rule starts with "- match: …"');
    current[m[2]!.toLowerCase()] = unquote(m[3]!);
  });
  return rules.map((r, n) => validateRule(r, `${source}[${n}]`));
}

function specificity(rule: CredentialRule, cidr: Cidr | null): number {
  if (rule.match === '*') return 0;
  if (cidr) return 1 + cidr.prefix / 100;
  return rule.match.includes(':') ? 4 : 3;
}

/** Picks the most specific rule: HOST:PORT, then host or IP, then the longest CIDR, then `*`. */
export class CredentialResolver {
  private readonly rules: Array<{ rule: CredentialRule; cidr: Cidr | null; rank: number }>;

  constructor(rules: CredentialRule[], env: NodeJS.ProcessEnv = process.env) {
    const all = [...rules];
    const u = env[ENV_USERNAME];
    const p = env[ENV_PASSWORD];
    if (u && p) all.push({ match: '*', username: u, password: p });
    // Stable sort keeps file rules ahead of the environment at equal specificity.
    this.rules = all
      .map((rule) => {
        const cidr = rule.match.includes('/') ? parseCidr(rule.match, 'match') : null;
        return { rule, cidr, rank: specificity(rule, cidr) };
      })
      .sort((a, b) => b.rank - a.rank);
  }

  get size(): number {
    return this.rules.length;
  }

  resolve(host: string, port: number, ip?: string): BmcCredentials | undefined {
    const h = host.toLowerCase();
    for (const { rule, cidr } of this.rules) {
      const hit = rule.match === '*'
        || (cidr ? [h, ip].some((a) => a !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(a) && cidrContains(cidr, a))
          : rule.match === `${h}:${port}` || rule.match === h || (ip !== undefined && (rule.match === ip || rule.match === `${ip}:${port}`)));
      if (hit) return { username: rule.username, password: rule.password };
    }
    return undefined;
  }
}

interface SealedFile {
  v: 1;
  iv: string;
  tag: string;
  data: string;
}

function paths(dataDir: string): { dir: string; key: string; store: string } {
  const dir = join(dataDir, 'redfish');
  return { dir, key: join(dir, 'credentials.key'), store: join(dir, 'credentials.enc') };
}

async function loadKey(dataDir: string, create: boolean): Promise<Buffer | null> {
  const p = paths(dataDir);
  try {
    const key = await readFile(p.key);
    if (key.length !== 32) throw new Error(`${p.key} is not a 32-byte key`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !create) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  // 'wx' so two agents racing cannot each write a key and lock the other out of the store.
  await createFileExclusive(p.key, key, 0o600);
  await chmod(p.key, 0o600);
  return readFile(p.key);
}

/** The rules stored in the data dir, decrypted; an empty list when there is no store yet. */
export async function loadStoredCredentials(dataDir: string): Promise<CredentialRule[]> {
  const p = paths(dataDir);
  let sealed: SealedFile;
  try {
    sealed = JSON.parse(await readFile(p.store, 'utf8')) as SealedFile;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const key = await loadKey(dataDir, false);
  if (!key) throw new Error(`${p.store} exists but its key ${p.key} is missing; re-import the credentials file`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const plain = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  return parseCredentials(plain.toString('utf8'), p.store);
}

/** Merges `rules` into the encrypted store; a rule replaces a stored one with the same match. */
export async function storeCredentials(dataDir: string, rules: CredentialRule[]): Promise<number> {
  const p = paths(dataDir);
  const merged = new Map((await loadStoredCredentials(dataDir)).map((r) => [r.match, r]));
  for (const r of rules) merged.set(r.match, r);
  const key = (await loadKey(dataDir, true))!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(JSON.stringify([...merged.values()]), 'utf8'), cipher.final()]);
  const sealed: SealedFile = { v: 1, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  await writeFileAtomic(p.store, JSON.stringify(sealed) + '\n', 0o600);
  return merged.size;
}

/**
 * The environment's account as the `*` rule discovery used, stored so that `power` and the
 * running agent's power runner (whose environment does not carry it) log in with it too.
 * Nothing is stored when the environment names no account, or when a stored `*` rule already
 * wins over it (file rules come first at equal specificity, so discovery used that one).
 */
export async function storeEnvironmentCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const username = env[ENV_USERNAME];
  const password = env[ENV_PASSWORD];
  if (!username || !password) return false;
  const stored = await loadStoredCredentials(dataDir);
  if (stored.some((r) => r.match === '*')) return false;
  await storeCredentials(dataDir, [{ match: '*', username, password }]);
  return true;
}

export async function importCredentialsFile(dataDir: string, file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BadUserInputError('credentials', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  return storeCredentials(dataDir, parseCredentials(text, `credentials ${file}`));
}
