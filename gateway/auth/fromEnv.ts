/** The verifier as deployed: SKYBOOT_JWT_ISSUER and SKYBOOT_JWKS_URL (Cognito in AWS, the local authorization server locally). */
import { createTokenVerifier, type TokenVerifier } from './verifier.js';

export function verifierFromEnv(env: NodeJS.ProcessEnv = process.env): TokenVerifier {
  const issuer = env.SKYBOOT_JWT_ISSUER;
  if (!issuer) throw new Error('SKYBOOT_JWT_ISSUER is not set');
  const clientIds = (env.SKYBOOT_JWT_CLIENT_IDS ?? '').split(',').filter(Boolean);
  if (!env.SKYBOOT_JWKS_URL) throw new Error('SKYBOOT_JWKS_URL is not set (the issuer\'s JWKS, e.g. <issuer>/.well-known/jwks.json for Cognito)');
  return createTokenVerifier({ issuer, jwks: { url: env.SKYBOOT_JWKS_URL }, clientIds });
}
