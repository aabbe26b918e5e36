/**
 * The web console's files, served at /console/ by the local HTTP entry (in AWS, S3 behind
 * CloudFront serves the same build). The build is `npm run build:console` (console/dist); the
 * console learns where the API and the authorization server are from /console/config.json, which
 * the gateway answers locally and the CDK app writes into the bucket in AWS.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the console reads at start: the same shape locally and in AWS. */
export interface ConsoleConfig {
  /** The GraphQL endpoint (absolute, or relative to the console's origin). */
  api: string;
  /** The OpenID issuer; the console reads its discovery document for the endpoints. */
  issuer: string;
  /** The console's public OAuth client (authorization code + PKCE). */
  clientId: string;
  scope: string;
}

export const CONSOLE_PATH = '/console/';
export const CONSOLE_BUILD_DIR = fileURLToPath(new URL('../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.png': 'image/png',
};

export class ConsoleNotBuiltError extends Error {
  constructor(dir: string) {
    super(`the web console is not built: ${join(dir, 'index.html')} is missing (run: npm run build:console)`);
    this.name = 'ConsoleNotBuiltError';
  }
}

export interface ConsoleFile {
  status: number;
  body: Buffer;
  type: string;
  /** Hashed asset names never change content; index.html and config.json always may. */
  cacheControl: string;
}

export interface ConsoleSite {
  file(path: string): ConsoleFile;
}

/** Serves `dir` (a Vite build) under /console/; a missing build is refused at start, by name. */
export function consoleSite(config: ConsoleConfig, dir = CONSOLE_BUILD_DIR): ConsoleSite {
  const root = resolve(dir);
  if (!existsSync(join(root, 'index.html'))) throw new ConsoleNotBuiltError(root);
  const configBody = Buffer.from(JSON.stringify(config));
  return {
    file(path: string): ConsoleFile {
      const rel = decodeURIComponent(path.slice(CONSOLE_PATH.length));
      if (rel === 'config.json') return { status: 200, body: configBody, type: TYPES['.json']!, cacheControl: 'no-store' };
      const target = normalize(join(root, rel || 'index.html'));
      if (target !== root && !target.startsWith(root + sep)) return notFound();
      if (!existsSync(target) || !statSync(target).isFile()) return notFound();
      const immutable = rel.startsWith('assets/');
      return { status: 200, body: readFileSync(target), type: TYPES[extname(target)] ?? 'application/octet-stream', cacheControl: immutable ? 'public, max-age=31536000, immutable' : 'no-cache' };
    },
  };
}

function notFound(): ConsoleFile {
  return { status: 404, body: Buffer.from('not found\n'), type: 'text/plain; charset=utf-8', cacheControl: 'no-store' };
}
