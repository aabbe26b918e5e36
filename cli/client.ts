/**
 * The CLI's GraphQL client: endpoint from SKYBOOT_URL, token from SKYBOOT_TOKEN or the local
 * stack's data dir (admin.token), errors turned into one readable line each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, opts: { exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.exitCode = opts.exitCode ?? 1;
  }
}

export interface ClientConfig {
  url: string;
  token: string | null;
}

export function clientConfig(env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const url = env.SKYBOOT_URL || DEFAULT_URL;
  if (env.SKYBOOT_TOKEN) return { url, token: env.SKYBOOT_TOKEN.trim() };
  const file = join(env.SKYBOOT_DATA_DIR || '.skyboot', 'admin.token');
  try {
    return { url, token: readFileSync(file, 'utf8').trim() };
  } catch {
    return { url, token: null };
  }
}

export type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export function graphqlClient(cfg: ClientConfig = clientConfig()): Gql {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(cfg.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(cfg.token ? { authorization: `Bearer ${cfg.token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
    } catch (err) {
      throw new CliError(`cannot reach Skyboot at ${cfg.url}: ${(err as Error).message} (is it running? set SKYBOOT_URL)`, { cause: err });
    }
    const text = await res.text();
    let body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new CliError(`${cfg.url} answered HTTP ${res.status} without JSON: ${text.slice(0, 200)}`);
    }
    if (body.errors?.length) {
      const codes = body.errors.map((e) => e.extensions?.code).filter(Boolean);
      const hint = codes.includes('UNAUTHENTICATED') && !cfg.token ? ' (no token: set SKYBOOT_TOKEN or run `npm start`, which writes .skyboot/admin.token)' : '';
      throw new CliError(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n') + hint);
    }
    if (!body.data) throw new CliError(`${cfg.url} answered HTTP ${res.status} with no data`);
    return body.data;
  };
}
