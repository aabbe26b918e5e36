/**
 * Everything that holds data: the table, the image bucket (and its access logs), and the user
 * pool with its agent clients. Deployed once and rarely changed; every resource is retained.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SkybootAuth } from './auth.js';
import { SkybootData } from './data.js';
import { exportRefs } from './refs.js';
import type { SkybootSettings } from './settings.js';

export interface StatefulStackProps extends StackProps {
  settings: SkybootSettings;
}

export class StatefulStack extends Stack {
  readonly data: SkybootData;
  readonly auth: SkybootAuth;

  constructor(scope: Construct, id: string, props: StatefulStackProps) {
    super(scope, id, props);
    const { settings } = props;
    this.data = new SkybootData(this, 'Data');
    this.auth = new SkybootAuth(this, 'Auth', {
      prefix: settings.prefix.toLowerCase(),
      domainPrefix: settings.authDomainPrefix,
      callbackUrls: settings.callbackUrls,
    });
    exportRefs(this, settings.prefix, {
      TableName: this.data.table.tableName,
      TableArn: this.data.table.tableArn,
      BucketName: this.data.bucket.bucketName,
      BucketArn: this.data.bucket.bucketArn,
      UserPoolId: this.auth.userPool.userPoolId,
      UserPoolArn: this.auth.userPool.userPoolArn,
      HumanClientId: this.auth.humanClient.userPoolClientId,
      TokenEndpoint: this.auth.tokenEndpoint,
      AudienceParameterArn: this.auth.audienceParameter.parameterArn,
    });
    new CfnOutput(this, 'UserPoolIdOutput', { value: this.auth.userPool.userPoolId, description: 'For aws cognito-idp admin-create-user (docs/deploy.md)' });
    new CfnOutput(this, 'HumanClientIdOutput', { value: this.auth.humanClient.userPoolClientId, description: 'The app client humans sign in with' });
    new CfnOutput(this, 'TokenEndpointOutput', { value: this.auth.tokenEndpoint, description: 'Agents exchange their client credentials here' });
  }
}
