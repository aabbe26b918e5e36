/** The verifier as deployed: SKYBOOT_JWKS_URL (Cognito) or SKYBOOT_JWKS_FILE (local), and SKYBOOT_JWT_ISSUER. */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { createTokenVerifier, type TokenVerifier } from './verifier.js';

export function verifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const issuer = env.SKYBOOT_JWT_ISSUER;
  if (!issuer) throw new Error('SKYBOOT_JWT_ISSUER is not set');
  const clientIds = (env.SKYBOOT_JWT_CLIENT_IDS ?? '').split(',').filter(Boolean);
  if (env.SKYBOOT_JWKS_URL) return createTokenVerifier({ issuer, jwks: { url: env.SKYBOOT_JWKS_URL }, clientIds });
  if (env.SKYBOOT_JWKS_FILE) {
    return createTokenVerifier({ issuer, jwks: { keys: JSON.parse(readFileSync(env.SKYBOOT_JWKS_FILE, 'utf8')) as JSONWebKeySet }, clientIds });
  }
  throw new Error('set SKYBOOT_JWKS_URL or SKYBOOT_JWKS_FILE');
}
