/** The stateful stack's security and durability properties, read off the synthesized template. */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { tableDefinition } from '../../../functions/shared/table.js';
import { REF_KEYS } from '../../../cdk/lib/refs.js';
import { synthSkyboot } from './synth.js';

let template: Template;
beforeAll(() => {
  template = synthSkyboot().statefulTemplate;
});

function onlyResource(type: string, props: Record<string, unknown> = {}): { Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string } {
  const found = Object.values(template.findResources(type, { Properties: props }));
  expect(found).toHaveLength(1);
  return found[0] as { Properties: Record<string, unknown>; DeletionPolicy?: string };
}

describe('DynamoDB table', () => {
  test('is on-demand with point-in-time recovery, encryption, deletion protection and a NEW_AND_OLD_IMAGES stream', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        // Idempotency receipts carry a ttl and must expire.
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('has exactly the keys and indexes of functions/shared/table.ts', () => {
    const def = tableDefinition('x');
    const table = onlyResource('AWS::DynamoDB::Table');
    expect(table.Properties.KeySchema).toEqual(def.KeySchema);
    const sortByName = <T extends { AttributeName?: string | undefined }>(a: T[]) => [...a].sort((x, y) => String(x.AttributeName).localeCompare(String(y.AttributeName)));
    expect(sortByName(table.Properties.AttributeDefinitions as { AttributeName: string }[])).toEqual(sortByName(def.AttributeDefinitions ?? []));
    const gsis = (table.Properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: unknown; Projection: unknown }[])
      .map(({ IndexName, KeySchema, Projection }) => ({ IndexName, KeySchema, Projection }));
    expect(gsis).toEqual(def.GlobalSecondaryIndexes);
  });
});

describe('image bucket', () => {
  const imagesBucket = () => onlyResource('AWS::S3::Bucket', { VersioningConfiguration: { Status: 'Enabled' } });

  test('blocks public access, encrypts, versions and is retained', () => {
    const bucket = imagesBucket();
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.Properties.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');
  });

  test('aborts incomplete multipart uploads after 7 days', () => {
    const rules = (imagesBucket().Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules).toContainEqual(expect.objectContaining({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 }, Status: 'Enabled' }));
  });

  test('logs access to a separate, private, TLS-only bucket', () => {
    expect(imagesBucket().Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: expect.stringMatching(/AccessLogs/) }, LogFilePrefix: 'images/' });
  });

  test('every bucket refuses requests without TLS', () => {
    const buckets = Object.keys(template.findResources('AWS::S3::Bucket'));
    expect(buckets).toHaveLength(2);
    for (const logicalId of buckets) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: logicalId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });
});

describe('Cognito', () => {
  test('user pool: admin-created accounts only, MFA required, strong passwords, threat protection, retained', () => {
    template.hasResource('AWS::Cognito::UserPool', {
      Properties: {
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: 'ON',
        UserPoolTier: 'PLUS',
        DeletionProtection: 'ACTIVE',
        Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true, RequireNumbers: true }) },
        UserPoolAddOns: { AdvancedSecurityMode: 'ENFORCED' },
      },
      DeletionPolicy: 'Retain',
    });
  });

  test('groups admin, operator and viewer', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map((g) => (g as { Properties: { GroupName: string } }).Properties.GroupName);
    expect(groups.sort()).toEqual(['admin', 'operator', 'viewer']);
  });

  test('resource server skyboot with the agent scope, and a domain for the token endpoint', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolResourceServer', { Identifier: 'skyboot', Scopes: [Match.objectLike({ ScopeName: 'agent' })] });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
  });

  test('the human app client keeps no secret and uses the authorization-code flow', () => {
    const client = onlyResource('AWS::Cognito::UserPoolClient');
    expect(client.Properties.GenerateSecret).toBe(false);
    expect(client.Properties.AllowedOAuthFlows).toEqual(['code']);
    expect(client.Properties.ExplicitAuthFlows).toEqual(expect.arrayContaining(['ALLOW_USER_SRP_AUTH']));
    expect(client.Properties.ExplicitAuthFlows).not.toContain('ALLOW_USER_PASSWORD_AUTH');
  });

  test('the JWT audience parameter starts as the human client id', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'StringList', Name: '/skyboot/api/jwt-audience', Value: { Ref: Match.stringLikeRegexp('HumanClient') } });
  });
});

test('exports every value the stateless stack imports, under fixed names', () => {
  const names = Object.values(template.toJSON().Outputs as Record<string, { Export?: { Name: string } }>).flatMap((o) => (o.Export ? [o.Export.Name] : []));
  expect(names.sort()).toEqual(REF_KEYS.map((k) => `Skyboot-${k}`).sort());
});
