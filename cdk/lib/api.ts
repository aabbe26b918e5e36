/**
 * The public edge: an API Gateway HTTP API in front of the gateway Lambda. Tokens are checked
 * here (a JWT authorizer on the Cognito pool) before any Lambda runs, and again by the gateway
 * itself; CORS, throttling and access logs are the API's job, not the code's.
 */
import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CorsHttpMethod,
  DomainName,
  HttpApi,
  HttpAuthorizer,
  HttpAuthorizerType,
  HttpMethod,
  HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export const GRAPHQL_PATH = '/graphql';

export interface SkybootApiProps {
  gateway: IFunction;
  jwtIssuer: string;
  /** Client ids accepted in `aud` (ID tokens) or `client_id` (access tokens). */
  jwtAudience: string[];
  corsOrigins: string[];
  throttleRate: number;
  throttleBurst: number;
  domainName?: string | undefined;
  certificateArn?: string | undefined;
}

/** One JSON object per request; the request id is the correlation id the gateway logs and passes to domains. */
const ACCESS_LOG_FIELDS = {
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  method: '$context.httpMethod',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  principal: '$context.authorizer.claims.sub',
  clientId: '$context.authorizer.claims.client_id',
};

export class SkybootApi extends Construct {
  readonly httpApi: HttpApi;
  readonly stage: HttpStage;
  readonly authorizer: HttpAuthorizer;
  readonly accessLogs: LogGroup;
  readonly url: string;

  constructor(scope: Construct, id: string, props: SkybootApiProps) {
    super(scope, id);
    const customDomain = props.domainName && props.certificateArn
      ? new DomainName(this, 'DomainName', {
          domainName: props.domainName,
          certificate: Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
        })
      : undefined;

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Skyboot GraphQL control plane',
      createDefaultStage: false,
      // With a custom domain, the execute-api address would be a second, unadvertised way in.
      disableExecuteApiEndpoint: customDomain !== undefined,
      // No origins configured means no CORS answer at all: browsers on other origins are refused.
      ...(props.corsOrigins.length === 0 ? {} : { corsPreflight: {
        allowOrigins: props.corsOrigins,
        allowMethods: [CorsHttpMethod.GET, CorsHttpMethod.POST, CorsHttpMethod.OPTIONS],
        // apollo-require-preflight / x-apollo-operation-name satisfy Apollo's CSRF prevention from browsers.
        allowHeaders: ['authorization', 'content-type', 'apollo-require-preflight', 'x-apollo-operation-name'],
        exposeHeaders: ['x-request-id'],
        maxAge: Duration.hours(1),
        // Bearer tokens, never cookies: credentials mode stays off.
        allowCredentials: false,
      } }),
    });

    this.accessLogs = new LogGroup(this, 'AccessLogs', { retention: RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: props.throttleRate, burstLimit: props.throttleBurst },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FIELDS)),
      },
      ...(customDomain ? { domainMapping: { domainName: customDomain } } : {}),
    });

    this.authorizer = new HttpAuthorizer(this, 'JwtAuthorizer', {
      httpApi: this.httpApi,
      authorizerName: 'cognito-jwt',
      type: HttpAuthorizerType.JWT,
      identitySource: ['$request.header.Authorization'],
      jwtIssuer: props.jwtIssuer,
      jwtAudience: props.jwtAudience,
    });
    const routeAuthorizer = HttpAuthorizer.fromHttpAuthorizerAttributes(this, 'RouteAuthorizer', {
      authorizerId: this.authorizer.authorizerId,
      authorizerType: HttpAuthorizerType.JWT,
    });

    this.httpApi.addRoutes({
      path: GRAPHQL_PATH,
      // GET serves persisted/simple queries; Apollo's CSRF prevention still applies to it.
      methods: [HttpMethod.POST, HttpMethod.GET],
      integration: new HttpLambdaIntegration('Gateway', props.gateway, { payloadFormatVersion: PayloadFormatVersion.VERSION_2_0 }),
      authorizer: routeAuthorizer,
    });

    this.url = customDomain ? `https://${props.domainName}${GRAPHQL_PATH}` : `${this.httpApi.apiEndpoint}${GRAPHQL_PATH}`;
    new CfnOutput(this, 'GraphqlUrl', { value: this.url, description: 'POST GraphQL requests here with a Cognito bearer token' });
  }

  /** The authorizer's ARN form for IAM (apigateway:PATCH on it updates the accepted audience). */
  authorizerArn(region: string): string {
    return `arn:aws:apigateway:${region}::/apis/${this.httpApi.apiId}/authorizers/${this.authorizer.authorizerId}`;
  }
}
