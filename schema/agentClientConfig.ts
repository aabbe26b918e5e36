/**
 * The agent config keys that connect an agent to the cloud with OAuth 2.0 client credentials,
 * built from a site's agent credentials (createSite / rotateAgentCredentials). `skyboot site
 * create` prints this file and the local stack writes it for its own agent; the agent reads the
 * same keys (docs/agent.md). The secret itself goes to its own file, never into the config.
 */
export interface AgentClientConfig {
  cloud: string;
  tokenEndpoint: string;
  clientId: string;
  clientSecretFile: string;
  scope: string;
}

export interface AgentClientCredentials {
  clientId: string;
  tokenEndpoint: string;
  scopes: readonly string[];
}

export function agentClientConfig(credentials: AgentClientCredentials, where: { cloud: string; clientSecretFile: string }): AgentClientConfig {
  return {
    cloud: where.cloud,
    tokenEndpoint: credentials.tokenEndpoint,
    clientId: credentials.clientId,
    clientSecretFile: where.clientSecretFile,
    scope: credentials.scopes.join(' '),
  };
}
