/**
 * The local stack's token issuer: an RS256 key pair in the data dir, its public half as a
 * JWKS the gateway verifies with (the same verifier as against Cognito), and tokens that
 * carry Cognito's claims. The private key never leaves the data dir.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JSONWebKeySet, type JWK } from 'jose';
import { AGENT_SCOPE, SITE_SCOPE_PREFIX, type Role } from './identity.js';

export const LOCAL_ISSUER = 'https://skyboot.local/issuer';

export interface LocalKeys {
  jwks: JSONWebKeySet;
  privateJwk: JWK;
}

export async function loadOrCreateKeys(dataDir: string): Promise<LocalKeys> {
  const privPath = join(dataDir, 'signing-key.jwk.json');
  const jwksPath = join(dataDir, 'jwks.json');
  if (existsSync(privPath) && existsSync(jwksPath)) {
    return { privateJwk: JSON.parse(readFileSync(privPath, 'utf8')) as JWK, jwks: JSON.parse(readFileSync(jwksPath, 'utf8')) as JSONWebKeySet };
  }
  mkdirSync(dataDir, { recursive: true });
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID();
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'RS256' };
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' }] };
  writeFileSync(privPath, JSON.stringify(privateJwk), { mode: 0o600 });
  writeFileSync(jwksPath, JSON.stringify(jwks, null, 2));
  return { privateJwk, jwks };
}

export interface TokenRequest {
  subject: string;
  roles?: Exclude<Role, 'agent'>[];
  agentSite?: string;
  ttlSeconds?: number;
  issuer?: string;
}

export async function signToken(keys: LocalKeys, req: TokenRequest): Promise<string> {
  const key = await importJWK(keys.privateJwk, 'RS256');
  const claims: Record<string, unknown> = { token_use: req.agentSite ? 'access' : 'id' };
  if (req.roles?.length) claims['cognito:groups'] = req.roles;
  if (req.agentSite) {
    claims.scope = `${AGENT_SCOPE} ${SITE_SCOPE_PREFIX}${req.agentSite}`;
    claims.client_id = req.subject;
  } else {
    claims['cognito:username'] = req.subject;
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: keys.privateJwk.kid! })
    .setSubject(req.subject)
    .setIssuer(req.issuer ?? LOCAL_ISSUER)
    .setIssuedAt()
    .setJti(randomUUID())
    .setExpirationTime(`${req.ttlSeconds ?? 30 * 24 * 3600}s`)
    .sign(key);
}
