/**
 * Who may call the API. Humans sign in to a Cognito user pool and carry their group
 * (`admin`, `operator`, `viewer`) in `cognito:groups`; agents are app clients, one per site,
 * using the client-credentials grant with the `skyboot/agent` scope. The pool holds users and
 * agent credentials, so it lives in the stateful stack and is retained.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolClient,
  UserPoolDomain,
  UserPoolGroup,
  UserPoolResourceServer,
} from 'aws-cdk-lib/aws-cognito';
import { StringListParameter } from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { AGENT_SCOPE } from '../../functions/shared/identity.js';

/** Human roles, highest privilege first; precedence picks the IAM role when a user is in several. */
export const HUMAN_GROUPS = ['admin', 'operator', 'viewer'] as const;
/** `skyboot/agent` (functions/shared/identity.ts) is `<resource server>/<scope>`. */
const [RESOURCE_SERVER_ID = 'skyboot', AGENT_SCOPE_NAME = 'agent'] = AGENT_SCOPE.split('/');
export { RESOURCE_SERVER_ID };
/** Agent app clients are named `<prefix><site>` (functions/sites/credentials.ts), so the pool's client list tells which are agents. */
export const AGENT_CLIENT_NAME_PREFIX = 'skyboot-agent-';

export interface SkybootAuthProps {
  /** Lower-case name part for the hosted domain and the audience parameter path. */
  prefix: string;
  domainPrefix?: string | undefined;
  callbackUrls: string[];
}

export class SkybootAuth extends Construct {
  readonly userPool: UserPool;
  readonly humanClient: UserPoolClient;
  readonly domain: UserPoolDomain;
  readonly resourceServer: UserPoolResourceServer;
  /**
   * The JWT authorizer's audience: the human client id plus every agent client id. The sites
   * function rewrites it when it creates or deletes an agent client; the stateless stack
   * resolves it at deploy time, so a redeploy keeps every agent's access.
   */
  readonly audienceParameter: StringListParameter;
  readonly audienceParameterName: string;

  constructor(scope: Construct, id: string, props: SkybootAuthProps) {
    super(scope, id);
    this.userPool = new UserPool(this, 'UserPool', {
      // Accounts are created by admins (docs/deploy.md); nobody signs themselves up to a control plane.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      autoVerify: { email: true },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      // These accounts can power-cycle clusters: a password alone is not enough.
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Plus adds compromised-credential and adaptive-authentication checks; billed per human MAU, a handful here.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    HUMAN_GROUPS.forEach((groupName, precedence) => {
      new UserPoolGroup(this, `Group-${groupName}`, { userPool: this.userPool, groupName, precedence, description: `Skyboot ${groupName}s` });
    });

    // The sites function adds a `site.<name>` scope here for each site it creates (UpdateResourceServer).
    // Leave this definition unchanged after the first deploy: a CloudFormation update of the resource
    // server would rewrite its scope list to this one and drop the sites' scopes.
    this.resourceServer = this.userPool.addResourceServer('ResourceServer', {
      identifier: RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'Skyboot API',
      scopes: [new ResourceServerScope({ scopeName: AGENT_SCOPE_NAME, scopeDescription: 'An on-prem agent acting for its one site' })],
    });

    // The token endpoint agents use for the client-credentials grant, and the hosted sign-in for humans.
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? `${props.prefix}-${Aws.ACCOUNT_ID}` },
    });

    this.humanClient = this.userPool.addClient('HumanClient', {
      userPoolClientName: 'skyboot-humans',
      // A CLI and a browser cannot keep a secret; PKCE protects the code exchange instead.
      generateSecret: false,
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: props.callbackUrls,
      },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });

    this.audienceParameterName = audienceParameterNameFor(props.prefix);
    this.audienceParameter = new StringListParameter(this, 'JwtAudience', {
      parameterName: this.audienceParameterName,
      description: 'Client ids the API JWT authorizer accepts: the human client, then agent clients (rewritten by the sites function)',
      stringListValue: [this.humanClient.userPoolClientId],
    });
  }

  /** Where agents exchange their client id and secret for an access token. */
  get tokenEndpoint(): string {
    return `${this.domain.baseUrl()}/oauth2/token`;
  }

}

/** The `iss` of the pool's tokens. */
export function issuerFor(userPoolId: string): string {
  return `https://cognito-idp.${Aws.REGION}.amazonaws.com/${userPoolId}`;
}

export function jwksUrlFor(userPoolId: string): string {
  return `${issuerFor(userPoolId)}/.well-known/jwks.json`;
}

export function audienceParameterNameFor(prefix: string): string {
  return `/${prefix.toLowerCase()}/api/jwt-audience`;
}
