import {
  CreateUserPoolClientCommand,
  DescribeResourceServerCommand,
  ListUserPoolClientsCommand,
  UpdateResourceServerCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { PutParameterCommand } from '@aws-sdk/client-ssm';
import { UpdateAuthorizerCommand } from '@aws-sdk/client-apigatewayv2';
import { cognitoIssuer, type AwsClients } from '../../../functions/sites/credentials.js';

// Cognito, SSM and API Gateway cannot run here: their clients are replaced by recorders that
// answer like the services, and the test checks the exact calls the sites function makes.
describe('agent credentials in AWS (Cognito, SSM and API Gateway mocked)', () => {
  const env = {
    SKYBOOT_USER_POOL_ID: 'us-east-1_pool',
    SKYBOOT_TOKEN_ENDPOINT: 'https://skyboot.auth.us-east-1.amazoncognito.com/oauth2/token',
    SKYBOOT_HUMAN_CLIENT_ID: 'human',
    SKYBOOT_AUDIENCE_PARAMETER: '/skyboot/api/jwt-audience',
    SKYBOOT_HTTP_API_ID: 'api123',
    SKYBOOT_JWT_AUTHORIZER_ID: 'auth456',
    SKYBOOT_JWT_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool',
  };

  function recorder() {
    const sent: { name: string; input: Record<string, unknown> }[] = [];
    const scopes = [{ ScopeName: 'agent', ScopeDescription: 'agents' }];
    const send = async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      sent.push({ name: cmd.constructor.name, input: cmd.input });
      if (cmd instanceof DescribeResourceServerCommand) return { ResourceServer: { Name: 'skyboot', Scopes: [...scopes] } };
      if (cmd instanceof UpdateResourceServerCommand) {
        scopes.splice(0, scopes.length, ...((cmd.input.Scopes as typeof scopes) ?? []));
        return {};
      }
      if (cmd instanceof CreateUserPoolClientCommand) return { UserPoolClient: { ClientId: 'cid-b', ClientSecret: 'secret-b' } };
      if (cmd instanceof ListUserPoolClientsCommand) {
        return cmd.input.NextToken
          ? { UserPoolClients: [{ ClientId: 'cid-b', ClientName: 'skyboot-agent-lab-b' }] }
          : { UserPoolClients: [{ ClientId: 'human', ClientName: 'skyboot-humans' }, { ClientId: 'cid-a', ClientName: 'skyboot-agent-lab-a' }], NextToken: 'p2' };
      }
      return {};
    };
    const aws = { cognito: { send }, ssm: { send }, apigw: { send } } as unknown as AwsClients;
    return { sent, aws, scopes };
  }

  it('adds the site scope, creates a client-credentials client, and lists every agent in the API audience', async () => {
    const { sent, aws, scopes } = recorder();
    const creds = await cognitoIssuer(env, aws)('lab-b');
    expect(creds).toEqual({ clientId: 'cid-b', clientSecret: 'secret-b', tokenEndpoint: env.SKYBOOT_TOKEN_ENDPOINT, token: null, scopes: ['skyboot/agent', 'skyboot/site.lab-b'] });
    expect(scopes.map((s) => s.ScopeName)).toEqual(['agent', 'site.lab-b']);
    expect(sent.map((s) => s.name)).toEqual([
      'DescribeResourceServerCommand',
      'UpdateResourceServerCommand',
      'CreateUserPoolClientCommand',
      'ListUserPoolClientsCommand',
      'ListUserPoolClientsCommand',
      'PutParameterCommand',
      'UpdateAuthorizerCommand',
    ]);
    expect(sent[2]!.input).toMatchObject({ ClientName: 'skyboot-agent-lab-b', GenerateSecret: true, AllowedOAuthFlows: ['client_credentials'], AllowedOAuthScopes: ['skyboot/agent', 'skyboot/site.lab-b'] });
    const put = sent.find((s) => s.name === PutParameterCommand.name)!.input;
    expect(put).toEqual({ Name: '/skyboot/api/jwt-audience', Type: 'StringList', Value: 'human,cid-a,cid-b', Overwrite: true });
    const auth = sent.find((s) => s.name === UpdateAuthorizerCommand.name)!.input;
    expect(auth).toEqual({ ApiId: 'api123', AuthorizerId: 'auth456', JwtConfiguration: { Issuer: env.SKYBOOT_JWT_ISSUER, Audience: ['human', 'cid-a', 'cid-b'] } });
  });

  it('does not add a site scope twice when credentials are rotated', async () => {
    const { sent, aws } = recorder();
    await cognitoIssuer(env, aws)('lab-b');
    await cognitoIssuer(env, aws)('lab-b');
    expect(sent.filter((s) => s.name === 'UpdateResourceServerCommand')).toHaveLength(1);
  });

  it('names the missing settings instead of half-creating a client', async () => {
    const { sent, aws } = recorder();
    await expect(cognitoIssuer({ ...env, SKYBOOT_HTTP_API_ID: '' }, aws)('lab-c')).rejects.toThrow(/SKYBOOT_HTTP_API_ID/);
    expect(sent).toEqual([]);
  });
});
