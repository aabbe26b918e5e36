/**
 * Agent credentials. In AWS each site's agent is a Cognito app client allowed the
 * client-credentials grant with the scopes `skyboot/agent` and `skyboot/site.<name>`; the
 * gateway reads the site from the scope. Locally the stack's authorization server registers an
 * equivalent client. Which one runs is chosen by SKYBOOT_AGENT_CREDENTIALS (cognito | local).
 */
import {
  CognitoIdentityProviderClient,
  CreateUserPoolClientCommand,
  DescribeResourceServerCommand,
  ListUserPoolClientsCommand,
  UpdateResourceServerCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { ApiGatewayV2Client, UpdateAuthorizerCommand } from '@aws-sdk/client-apigatewayv2';
import { AGENT_SCOPE, SITE_SCOPE_PREFIX } from '../shared/identity.js';

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

export const AGENT_CLIENT_PREFIX = 'skyboot-agent-';

/**
 * The local stack's authorization server registers the agent's client through OpenID Connect
 * Dynamic Client Registration (RFC 7591), as Cognito's CreateUserPoolClient does in AWS: a
 * client-credentials client allowed the site's scopes. Nothing here signs a token.
 */
export function localIssuer(env: NodeJS.ProcessEnv = process.env, fetchFn: typeof fetch = fetch): AgentCredentialIssuer {
  return async (site) => {
    const issuer = env.SKYBOOT_JWT_ISSUER;
    const registrationToken = env.SKYBOOT_CLIENT_REGISTRATION_TOKEN;
    if (!issuer || !registrationToken) throw new Error('SKYBOOT_JWT_ISSUER and SKYBOOT_CLIENT_REGISTRATION_TOKEN must be set for local agent credentials');
    const discovery = await fetchFn(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
    if (!discovery.ok) throw new Error(`authorization server ${issuer}: discovery answered HTTP ${discovery.status}`);
    const meta = (await discovery.json()) as { registration_endpoint?: string; token_endpoint?: string };
    if (!meta.registration_endpoint || !meta.token_endpoint) throw new Error(`authorization server ${issuer} offers no client registration`);
    const res = await fetchFn(meta.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${registrationToken}` },
      body: JSON.stringify({
        client_name: `${AGENT_CLIENT_PREFIX}${site}`,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        skyboot_allowed_scopes: scopesFor(site).join(' '),
      }),
    });
    const body = (await res.json()) as { client_id?: string; client_secret?: string; error?: string; error_description?: string };
    if (!res.ok || !body.client_id || !body.client_secret) throw new Error(`client registration for site ${site} failed: HTTP ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`.trim());
    return { clientId: body.client_id, clientSecret: body.client_secret, tokenEndpoint: meta.token_endpoint, token: null, scopes: scopesFor(site) };
  };
}

const REQUIRED_AWS_SETTINGS = [
  'SKYBOOT_USER_POOL_ID',
  'SKYBOOT_TOKEN_ENDPOINT',
  'SKYBOOT_HUMAN_CLIENT_ID',
  'SKYBOOT_AUDIENCE_PARAMETER',
  'SKYBOOT_HTTP_API_ID',
  'SKYBOOT_JWT_AUTHORIZER_ID',
  'SKYBOOT_JWT_ISSUER',
] as const;

export interface AwsClients {
  cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  ssm: Pick<SSMClient, 'send'>;
  apigw: Pick<ApiGatewayV2Client, 'send'>;
}

/**
 * The API's JWT authorizer accepts a token only when its client id is in the audience, so
 * every agent client must be listed: the human client plus all `skyboot-agent-*` clients.
 * The list is kept in SSM (the stack reads it on every deploy, so a redeploy keeps agents)
 * and pushed to the live authorizer.
 */
export async function refreshApiAudience(env: NodeJS.ProcessEnv, aws: AwsClients): Promise<string[]> {
  const UserPoolId = env.SKYBOOT_USER_POOL_ID;
  const human = env.SKYBOOT_HUMAN_CLIENT_ID;
  const parameter = env.SKYBOOT_AUDIENCE_PARAMETER;
  const ApiId = env.SKYBOOT_HTTP_API_ID;
  const AuthorizerId = env.SKYBOOT_JWT_AUTHORIZER_ID;
  const Issuer = env.SKYBOOT_JWT_ISSUER;
  if (!UserPoolId || !human || !parameter || !ApiId || !AuthorizerId || !Issuer) {
    throw new Error('SKYBOOT_USER_POOL_ID, SKYBOOT_HUMAN_CLIENT_ID, SKYBOOT_AUDIENCE_PARAMETER, SKYBOOT_HTTP_API_ID, SKYBOOT_JWT_AUTHORIZER_ID and SKYBOOT_JWT_ISSUER must be set');
  }
  const agents: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await aws.cognito.send(new ListUserPoolClientsCommand({ UserPoolId, MaxResults: 60, ...(NextToken ? { NextToken } : {}) }));
    for (const c of page.UserPoolClients ?? []) if (c.ClientId && c.ClientName?.startsWith(AGENT_CLIENT_PREFIX)) agents.push(c.ClientId);
    NextToken = page.NextToken;
  } while (NextToken);
  const Audience = [human, ...agents.sort()];
  await aws.ssm.send(new PutParameterCommand({ Name: parameter, Type: 'StringList', Value: Audience.join(','), Overwrite: true }));
  await aws.apigw.send(new UpdateAuthorizerCommand({ ApiId, AuthorizerId, JwtConfiguration: { Issuer, Audience } }));
  return Audience;
}

export function cognitoIssuer(
  env: NodeJS.ProcessEnv = process.env,
  aws: AwsClients = { cognito: new CognitoIdentityProviderClient({}), ssm: new SSMClient({}), apigw: new ApiGatewayV2Client({}) },
): AgentCredentialIssuer {
  const client = aws.cognito;
  return async (site) => {
    const missing = REQUIRED_AWS_SETTINGS.filter((k) => !env[k]);
    // Checked up front: a client created without its audience update could never call the API.
    if (missing.length) throw new Error(`${missing.join(', ')} must be set for Cognito agent credentials`);
    const UserPoolId = env.SKYBOOT_USER_POOL_ID!;
    const domain = env.SKYBOOT_TOKEN_ENDPOINT!;
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
        ClientName: `${AGENT_CLIENT_PREFIX}${site}`,
        GenerateSecret: true,
        AllowedOAuthFlows: ['client_credentials'],
        AllowedOAuthFlowsUserPoolClient: true,
        AllowedOAuthScopes: scopesFor(site),
      }),
    );
    const c = out.UserPoolClient;
    if (!c?.ClientId) throw new Error('Cognito returned no client id');
    await refreshApiAudience(env, aws);
    return { clientId: c.ClientId, clientSecret: c.ClientSecret ?? null, tokenEndpoint: domain, token: null, scopes: scopesFor(site) };
  };
}

export function issuerFromEnv(env: NodeJS.ProcessEnv = process.env): AgentCredentialIssuer {
  return env.SKYBOOT_AGENT_CREDENTIALS === 'cognito' ? cognitoIssuer(env) : localIssuer(env);
}
