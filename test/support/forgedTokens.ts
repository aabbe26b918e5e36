/**
 * Tokens no authorization server would issue (expired, another issuer, no role), signed with the
 * local authorization server's own key, for the tests that prove the gateway refuses them.
 * Every token a test uses as a valid caller comes from the authorization server instead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';

export interface ForgedTokenRequest {
  issuer: string;
  groups?: string[];
  scope?: string;
  ttlSeconds?: number;
  subject?: string;
}

/** The signing key the local authorization server keeps in its data dir. */
export function authServerSigningKey(dataDir: string): JWK {
  return (JSON.parse(readFileSync(join(dataDir, 'auth', 'secrets.json'), 'utf8')) as { signingKey: JWK }).signingKey;
}

export async function forgeToken(key: JWK, req: ForgedTokenRequest): Promise<string> {
  const claims: Record<string, unknown> = { token_use: 'access', client_id: 'forged' };
  if (req.groups) claims['cognito:groups'] = req.groups;
  if (req.scope) claims.scope = req.scope;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid! })
    .setSubject(req.subject ?? 'forged')
    .setIssuer(req.issuer)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(Math.floor(Date.now() / 1000) + (req.ttlSeconds ?? 300))
    .sign(await importJWK(key, 'RS256'));
}
