/**
 * People log in with authorization code + PKCE (RFC 7636) against the deployment's OpenID
 * provider: the local stack's (local/authServer.ts) or Cognito, found the same way, through the
 * issuer's discovery document. The access token lives in this tab's sessionStorage only (the
 * GraphQL IDE on the same origin reads it from there), never in localStorage or a cookie.
 */
import type { ConsoleConfig } from './config.js';

export const TOKEN_KEY = 'skyboot.token';
const EXPIRES_KEY = 'skyboot.token.expiresAt';
const PENDING_KEY = 'skyboot.login.pending';

interface Discovery {
  authorization_endpoint: string;
  token_endpoint: string;
}

interface PendingLogin {
  state: string;
  verifier: string;
  /** Where to go after the login: a console route (#/...) or the IDE (/graphql). */
  next: string;
}

export class LoginError extends Error {
  override name = 'LoginError';
}

const base64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

const randomString = (n: number) => base64url(crypto.getRandomValues(new Uint8Array(n)));

async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url);
  if (!res.ok) throw new LoginError(`${url} answered HTTP ${res.status}`);
  return (await res.json()) as Discovery;
}

/** The console's own URL without query or fragment: the redirect URI registered for it. */
export function redirectUri(): string {
  const u = new URL(document.baseURI);
  u.search = '';
  u.hash = '';
  return u.href;
}

export function currentToken(): string | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const expiresAt = Number(sessionStorage.getItem(EXPIRES_KEY) ?? 0);
  if (!token || (expiresAt && expiresAt <= Date.now())) return null;
  return token;
}

export function logout(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
}

/** Sends the browser to the provider's login page. */
export async function startLogin(config: ConsoleConfig, next: string): Promise<never> {
  const d = await discover(config.issuer);
  const verifier = randomString(32);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const pending: PendingLogin = { state: randomString(12), verifier, next };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state: pending.state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${d.authorization_endpoint}?${q}`);
  return new Promise<never>(() => undefined);
}

/**
 * The provider's redirect back (`?code=&state=`): exchanges the code for a token and returns
 * where to go next; null when this page load is not a redirect back.
 */
export async function finishLogin(config: ConsoleConfig): Promise<string | null> {
  const params = new URLSearchParams(location.search);
  const error = params.get('error');
  if (error) throw new LoginError(`the authorization server refused the login: ${error} ${params.get('error_description') ?? ''}`.trim());
  const code = params.get('code');
  if (!code) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null') as PendingLogin | null;
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || pending.state !== params.get('state')) throw new LoginError('the login answer does not match a login started in this tab (state differs); log in again');
  const d = await discover(config.issuer);
  const res = await fetch(d.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(), client_id: config.clientId, code_verifier: pending.verifier }),
  });
  const body = (await res.json()) as { access_token?: string; expires_in?: number; error?: string; error_description?: string };
  if (!res.ok || !body.access_token) throw new LoginError(`token endpoint: HTTP ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
  sessionStorage.setItem(TOKEN_KEY, body.access_token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + (body.expires_in ?? 3600) * 1000));
  history.replaceState(null, '', redirectUri());
  return pending.next;
}
