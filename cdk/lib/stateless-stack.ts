/**
 * Everything that is code or derived from it: the Lambdas, the API, the alarms. It reaches the
 * stateful stack only through its named exports, so it can be destroyed and redeployed
 * without touching data.
 */
import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { ParameterValueType, StringListParameter } from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { INDEXES } from '../../functions/shared/table.js';
import { SkybootApi } from './api.js';
import { audienceParameterNameFor, issuerFor, jwksUrlFor } from './auth.js';
import { SkybootFunctions } from './functions.js';
import { SkybootMonitoring } from './monitoring.js';
import { exportName, importRefs } from './refs.js';
import type { SkybootSettings } from './settings.js';

export interface StatelessStackProps extends StackProps {
  settings: SkybootSettings;
  /** Deploy order only: the stateful stack's exports must exist first. */
  stateful?: Stack;
  /** Where the handler files are; the repository root except in unit tests. */
  entryRoot?: string;
}

export class StatelessStack extends Stack {
  readonly functions: SkybootFunctions;
  readonly api: SkybootApi;
  readonly monitoring: SkybootMonitoring;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { settings } = props;
    if (props.stateful) this.addStackDependency(props.stateful, 'Imports the table, bucket and user pool exports');
    const refs = importRefs(settings.prefix, audienceParameterNameFor(settings.prefix));
    const table = Table.fromTableArn(this, 'Table', refs.TableArn);
    const bucket = Bucket.fromBucketAttributes(this, 'Images', { bucketArn: refs.BucketArn, bucketName: refs.BucketName });

    this.functions = new SkybootFunctions(this, 'Functions', {
      table,
      tableArnName: exportName(settings.prefix, 'TableArn'),
      bucket,
      bucketArnName: exportName(settings.prefix, 'BucketArn'),
      userPoolArn: refs.UserPoolArn,
      userPoolId: refs.UserPoolId,
      tableName: refs.TableName,
      defaultSite: settings.sites[0] ?? 'default',
      sites: settings.sites,
      ...(props.entryRoot ? { entryRoot: props.entryRoot } : {}),
    });

    // Resolved by CloudFormation at every deploy from the parameter the sites function keeps
    // current, so redeploying this stack keeps every agent client's access.
    const audience = StringListParameter.valueForTypedListParameter(this, refs.audienceParameterName, ParameterValueType.STRING);
    this.api = new SkybootApi(this, 'Api', {
      gateway: this.functions.gateway.fn,
      jwtIssuer: issuerFor(refs.UserPoolId),
      jwtAudience: audience,
      corsOrigins: settings.corsOrigins,
      throttleRate: settings.throttleRate,
      throttleBurst: settings.throttleBurst,
      domainName: settings.domainName,
      certificateArn: settings.certificateArn,
    });

    const gateway = this.functions.gateway.fn;
    gateway.addEnvironment('SKYBOOT_USER_POOL_ID', refs.UserPoolId);
    gateway.addEnvironment('SKYBOOT_JWT_ISSUER', issuerFor(refs.UserPoolId));
    gateway.addEnvironment('SKYBOOT_JWKS_URL', jwksUrlFor(refs.UserPoolId));

    // The sites function adds each new agent client to the authorizer's audience at once
    // (UpdateAuthorizer) and records the list in the parameter for the next deploy.
    const sites = this.functions.domains.sites;
    sites.fn.addEnvironment('SKYBOOT_HUMAN_CLIENT_ID', refs.HumanClientId);
    sites.fn.addEnvironment('SKYBOOT_AUDIENCE_PARAMETER', refs.audienceParameterName);
    sites.fn.addEnvironment('SKYBOOT_HTTP_API_ID', this.api.httpApi.apiId);
    sites.fn.addEnvironment('SKYBOOT_JWT_AUTHORIZER_ID', this.api.authorizer.authorizerId);
    // UpdateAuthorizer replaces the whole JwtConfiguration, so the issuer must be sent along with the audience.
    sites.fn.addEnvironment('SKYBOOT_JWT_ISSUER', issuerFor(refs.UserPoolId));
    sites.fn.addEnvironment('SKYBOOT_TOKEN_ENDPOINT', refs.TokenEndpoint);
    sites.fn.addEnvironment('SKYBOOT_API_URL', this.api.url);
    sites.role.addToPolicy(new PolicyStatement({
      actions: ['ssm:GetParameter', 'ssm:PutParameter'],
      resources: [refs.AudienceParameterArn],
    }));
    sites.role.addToPolicy(new PolicyStatement({
      actions: ['apigateway:GET', 'apigateway:PATCH'],
      resources: [this.api.authorizerArn(Aws.REGION)],
    }));

    this.monitoring = new SkybootMonitoring(this, 'Monitoring', {
      httpApi: this.api.httpApi,
      functions: this.functions.all(),
      tableName: refs.TableName,
      indexNames: Object.keys(INDEXES),
      adminEmail: settings.adminEmail,
    });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.monitoring.topic.topicArn });
  }
}
