/**
 * Agent credentials. In AWS each site's agent is a Cognito app client allowed the
 * client-credentials grant with the scopes `skyboot/agent` and `skyboot/site.<name>`; the
 * gateway reads the site from the scope. Locally the stack's own key signs an equivalent
 * token. Which one runs is chosen by SKYBOOT_AGENT_CREDENTIALS (cognito | local).
 */
import { readFileSync } from 'node:fs';
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DescribeResourceServerCommand,
  UpdateResourceServerCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import type { JWK } from 'jose';
import { AGENT_SCOPE, SITE_SCOPE_PREFIX } from '../shared/identity.js';
import { signToken } from '../shared/localTokens.js';

export interface AgentCredentials {
  clientId: string;
  clientSecret: string | null;
  tokenEndpoint: string | null;
  token: string | null;
  scopes: string[];
}

export type AgentCredentialIssuer = (site: string) => Promise<AgentCredentials>;

function scopesFor(site: string): string[] {
  return [AGENT_SCOPE, `${SITE_SCOPE_PREFIX}${site}`];
}

export function localIssuer(env: NodeJS.ProcessEnv = process.env): AgentCredentialIssuer {
  return async (site) => {
    const keyFile = env.SKYBOOT_LOCAL_SIGNING_KEY;
    const jwksFile = env.SKYBOOT_JWKS_FILE;
    if (!keyFile || !jwksFile) throw new Error('SKYBOOT_LOCAL_SIGNING_KEY and SKYBOOT_JWKS_FILE must be set for local agent credentials');
    const keys = { privateJwk: JSON.parse(readFileSync(keyFile, 'utf8')) as JWK, jwks: JSON.parse(readFileSync(jwksFile, 'utf8')) };
    const clientId = `agent-${site}`;
    const token = await signToken(keys, { subject: clientId, agentSite: site, ttlSeconds: 365 * 24 * 3600, issuer: env.SKYBOOT_JWT_ISSUER });
    return { clientId, clientSecret: null, tokenEndpoint: null, token, scopes: scopesFor(site) };
  };
}

export function cognitoIssuer(env: NodeJS.ProcessEnv = process.env, client = new CognitoIdentityProviderClient({})): AgentCredentialIssuer {
  return async (site) => {
    const UserPoolId = env.SKYBOOT_USER_POOL_ID;
    const domain = env.SKYBOOT_TOKEN_ENDPOINT;
    if (!UserPoolId || !domain) throw new Error('SKYBOOT_USER_POOL_ID and SKYBOOT_TOKEN_ENDPOINT must be set for Cognito agent credentials');
    const Identifier = AGENT_SCOPE.split('/')[0]!;
    const scopeName = `${SITE_SCOPE_PREFIX.slice(Identifier.length + 1)}${site}`;
    const server = await client.send(new DescribeResourceServerCommand({ UserPoolId, Identifier }));
    const existing = server.ResourceServer?.Scopes ?? [];
    if (!existing.some((s) => s.ScopeName === scopeName)) {
      await client.send(
        new UpdateResourceServerCommand({
          UserPoolId,
          Identifier,
          Name: server.ResourceServer?.Name ?? Identifier,
          Scopes: [...existing, { ScopeName: scopeName, ScopeDescription: `agent of site ${site}` }],
        }),
      );
    }
    const out = await client.send(
      new CreateUserPoolClientCommand({
        UserPoolId,
        ClientName: `skyboot-agent-${site}`,
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: scopesFor(site),
      }),
    );
    const c = out.UserPoolClient;
    if (!c?.ClientId) throw new Error('Cognito returned no client id');
    return { clientId: c.ClientId, clientSecret: c.ClientSecret ?? null, tokenEndpoint: domain, token: null, scopes: scopesFor(site) };
  };
}

export function issuerFromEnv(env: NodeJS.ProcessEnv = process.env): AgentCredentialIssuer {
  return env.SKYBOOT_AGENT_CREDENTIALS === 'cognito' ? cognitoIssuer(env) : localIssuer(env);
}
