/**
 * The person in front of the browser, for tests: follows an authorization URL, keeps the
 * authorization server's cookies, fills in its login form, and follows redirects until one
 * lands on the client's redirect URI, which it then requests (as a browser would, so a CLI's
 * loopback listener receives the code). Plain HTTP, no helper routes.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface BrowserResult {
  /** The redirect URI with `code` and `state`, as the browser requested it. */
  callbackUrl: URL;
  /** The loopback listener's answer, when the browser requested it. */
  callbackStatus: number | null;
}

function cookieJar() {
  const jar = new Map<string, string>();
  return {
    header: () => [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
    store(res: Response) {
      for (const c of res.headers.getSetCookie()) {
        const [pair] = c.split(';');
        const eq = pair!.indexOf('=');
        jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
      }
    },
  };
}

export async function browserLogin(authorizeUrl: string, redirectUri: string, username: string, password: string, opts: { visitCallback?: boolean } = {}): Promise<BrowserResult> {
  const jar = cookieJar();
  let url = new URL(authorizeUrl);
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    if (url.href.startsWith(redirectUri)) {
      if (opts.visitCallback === false) return { callbackUrl: url, callbackStatus: null };
      const res = await fetch(url, { redirect: 'manual' });
      await res.arrayBuffer();
      return { callbackUrl: url, callbackStatus: res.status };
    }
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    jar.store(res);
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      await res.arrayBuffer();
      url = new URL(location, url);
      method = 'GET';
      body = undefined;
      continue;
    }
    const page = await res.text();
    const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(page)?.[1];
    if (!action || !/name="username"/.test(page)) throw new Error(`${url.href} answered HTTP ${res.status} without a login form: ${page.slice(0, 300)}`);
    if (method === 'POST') throw new Error(`login as ${username} was refused: ${page.replace(/<[^>]+>/g, ' ').slice(0, 200)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url);
    method = 'POST';
    body = new URLSearchParams({ username, password }).toString();
  }
  throw new Error(`more than 20 redirects from ${authorizeUrl}`);
}

export interface PkceTokens {
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  expires_in: number;
}

/** Authorization code + PKCE for a public client, end to end, the browser part played by browserLogin. */
export async function pkceLogin(o: { authorizationEndpoint: string; tokenEndpoint: string; clientId: string; username: string; password: string; scope?: string }): Promise<PkceTokens> {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  // Nobody listens on this loopback port: the browser part stops at the redirect and reads the code.
  const redirectUri = 'http://127.0.0.1:9/callback';
  const q = new URLSearchParams({ response_type: 'code', client_id: o.clientId, redirect_uri: redirectUri, scope: o.scope ?? 'openid offline_access', state, code_challenge: challenge, code_challenge_method: 'S256' });
  const { callbackUrl } = await browserLogin(`${o.authorizationEndpoint}?${q}`, redirectUri, o.username, o.password, { visitCallback: false });
  if (callbackUrl.searchParams.get('state') !== state) throw new Error(`state mismatch in ${callbackUrl.href}`);
  const code = callbackUrl.searchParams.get('code');
  if (!code) throw new Error(`no code in ${callbackUrl.href}`);
  const res = await fetch(o.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: o.clientId, code_verifier: verifier }),
  });
  const json = (await res.json()) as PkceTokens & { error?: string; error_description?: string };
  if (!res.ok) throw new Error(`token endpoint: HTTP ${res.status} ${json.error} ${json.error_description ?? ''}`);
  return json;
}

/** The client-credentials grant, as an agent or a CI job performs it. */
export async function clientCredentialsToken(tokenEndpoint: string, clientId: string, clientSecret: string, scope?: string): Promise<string> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...(scope ? { scope } : {}) }),
  });
  const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !json.access_token) throw new Error(`token endpoint: HTTP ${res.status} ${json.error} ${json.error_description ?? ''}`);
  return json.access_token;
}
