/**
 * The CLI's GraphQL client: endpoint from SKYBOOT_URL, else the profile's API URL; token from
 * SKYBOOT_TOKEN, else the profile's cached login (cli/profiles.ts, refreshed when it is about to
 * expire); errors turned into one readable line each.
 */
import { ProfileStore, profileName, profileToken } from './profiles.js';

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
  /** A token, or where to get one per request (a profile's cache); null sends none. */
  token: string | null | (() => Promise<string | null>);
  profile?: string;
}

export function clientConfig(env: NodeJS.ProcessEnv = process.env, profileFlag?: string): ClientConfig {
  const name = profileName(profileFlag, env);
  const store = new ProfileStore(env);
  const url = env.SKYBOOT_URL || store.profile(name)?.apiUrl || DEFAULT_URL;
  if (env.SKYBOOT_TOKEN) return { url, token: env.SKYBOOT_TOKEN.trim(), profile: name };
  const flag = name === 'default' ? '' : ` --profile ${name}`;
  return {
    url,
    token: async () => {
      const token = await profileToken(store, name);
      if (!token) throw new CliError(`not logged in: run \`skyboot login${flag}\` (profile ${name}), or set SKYBOOT_TOKEN`);
      return token;
    },
    profile: name,
  };
}

export type Gql = <T>(query: string, variables?: Record<string, unknown>) => Promise<T>;

export function graphqlClient(cfg: ClientConfig = clientConfig()): Gql {
  return async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const token = typeof cfg.token === 'function' ? await cfg.token() : cfg.token;
    let res: Response;
    try {
      res = await fetch(cfg.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
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
      const hint = codes.includes('UNAUTHENTICATED') && token ? ` (run \`skyboot login${cfg.profile && cfg.profile !== 'default' ? ` --profile ${cfg.profile}` : ''}\` again)` : '';
      throw new CliError(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('\n') + hint);
    }
    if (!body.data) throw new CliError(`${cfg.url} answered HTTP ${res.status} with no data`);
    return body.data;
  };
}
