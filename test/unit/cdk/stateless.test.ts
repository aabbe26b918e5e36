/** The stateless stack: Lambda settings, least-privilege IAM per function, the API edge and alarms. */
import { Stack } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { CfnRole } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { DOMAINS, functionEnvName } from '../../../cdk/lib/handlers.js';
import type { SkybootFunction } from '../../../cdk/lib/functions.js';
import { synthSkyboot, TEST_CONTEXT, type Synthesized } from './synth.js';

let s: Synthesized;
let template: Template;
beforeAll(() => {
  s = synthSkyboot();
  template = s.statelessTemplate;
});

interface Statement { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, unknown> }
type Resource = { Properties: Record<string, unknown> };

const logicalId = (f: SkybootFunction, which: 'role' | 'fn') =>
  Stack.of(f).getLogicalId((which === 'role' ? f.role.node.defaultChild : f.fn.node.defaultChild) as CfnRole | CfnFunction);

/** Every statement of every policy attached to the function's role. */
function statements(f: SkybootFunction): Statement[] {
  const role = logicalId(f, 'role');
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as Resource[];
  return policies
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (f: SkybootFunction) => statements(f).flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]));
const fnProps = (f: SkybootFunction) => (template.toJSON().Resources[logicalId(f, 'fn')] as Resource).Properties;
const envOf = (f: SkybootFunction) => (fnProps(f).Environment as { Variables: Record<string, unknown> }).Variables;

describe('stateless by construction', () => {
  test('holds no data store, so destroying it cannot delete data', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable', 'AWS::S3::Bucket', 'AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::SSM::Parameter']) {
      template.resourceCountIs(type, 0);
    }
  });

  test('reaches the stateful stack only through its fixed-name exports', () => {
    const imports = new Set<string>();
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        for (const [k, x] of Object.entries(v)) {
          if (k === 'Fn::ImportValue') imports.add(String(x));
          else walk(x);
        }
      }
    };
    walk(template.toJSON());
    expect([...imports].every((name) => /^Skyboot-[A-Za-z]+$/.test(name))).toBe(true);
    expect(imports.has('Skyboot-TableArn')).toBe(true);
  });
});

describe('Lambda functions', () => {
  test('all eight are arm64, nodejs22.x, actively traced, production, with Powertools settings and their own log group', () => {
    const all = s.stateless.functions.all();
    // gateway, five domains, the upload finalizer, the claim-expiry schedule.
    expect(all).toHaveLength(8);
    for (const f of all) {
      const p = fnProps(f);
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.TracingConfig).toEqual({ Mode: 'Active' });
      expect(p.Handler).toBe('index.handler');
      expect(envOf(f)).toEqual(expect.objectContaining({ NODE_ENV: 'production', POWERTOOLS_SERVICE_NAME: expect.stringMatching(/^skyboot-/), LOG_LEVEL: 'INFO', SKYBOOT_DEFAULT_SITE: 'alpha' }));
      expect(p.LoggingConfig).toEqual({ LogGroup: { Ref: expect.stringMatching(/Logs/) } });
    }
  });

  test('no role carries an AWS managed policy (logs are granted on the function\'s own log group)', () => {
    for (const f of s.stateless.functions.all()) {
      const role = template.toJSON().Resources[logicalId(f, 'role')] as Resource;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  test('the gateway gets its wiring: invoker, schema dir, JWKS, issuer, pool id and every domain function name', () => {
    const env = envOf(s.stateless.functions.gateway);
    expect(env).toEqual(expect.objectContaining({
      SKYBOOT_INVOKER: 'lambda',
      SKYBOOT_SCHEMA_DIR: '/var/task/schema',
      SKYBOOT_USER_POOL_ID: { 'Fn::ImportValue': 'Skyboot-UserPoolId' },
      SKYBOOT_TABLE: { 'Fn::ImportValue': 'Skyboot-TableName' },
      SKYBOOT_BUCKET: { 'Fn::ImportValue': 'Skyboot-BucketName' },
    }));
    expect(JSON.stringify(env.SKYBOOT_JWKS_URL)).toMatch(/cognito-idp\..*Skyboot-UserPoolId.*\/\.well-known\/jwks\.json/);
    expect(JSON.stringify(env.SKYBOOT_JWT_ISSUER)).toMatch(/https:\/\/cognito-idp\./);
    for (const d of DOMAINS) expect(env[functionEnvName(d)]).toEqual({ Ref: logicalId(s.stateless.functions.domains[d], 'fn') });
  });
});

describe('least privilege', () => {
  test('the claim-expiry schedule runs every minute and may write only boot-session, boot-state and audit keys', () => {
    const rules = Object.values(template.toJSON().Resources as Record<string, Resource & { Type: string }>).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules.map((r) => r.Properties.ScheduleExpression)).toContain('rate(1 minute)');
    const write = statements(s.stateless.functions.claimExpiry).find((st) => JSON.stringify(st.Action).includes('dynamodb:PutItem'));
    expect(write?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['BOOTSESS#*', 'BOOTSTATE#*', 'AUDIT#*'] } });
  });

  test('the gateway may only invoke the five domain functions (no table, no bucket)', () => {
    const gw = s.stateless.functions.gateway;
    const invoke = statements(gw).find((st) => st.Action === 'lambda:InvokeFunction');
    const targets = DOMAINS.map((d) => ({ 'Fn::GetAtt': [logicalId(s.stateless.functions.domains[d], 'fn'), 'Arn'] }));
    expect(invoke?.Resource).toHaveLength(targets.length);
    expect(invoke?.Resource).toEqual(expect.arrayContaining(targets));
    expect(actionsOf(gw).filter((a) => /^(dynamodb|s3):/.test(a))).toEqual([]);
  });

  test.each(['inventory', 'boot', 'orchestration'] as const)('%s has no S3 permission and no Scan', (domain) => {
    const actions = actionsOf(s.stateless.functions.domains[domain]);
    expect(actions.filter((a) => a.startsWith('s3:'))).toEqual([]);
    expect(actions).toContain('dynamodb:Query');
    expect(actions).toContain('dynamodb:PutItem');
    expect(actions).not.toContain('dynamodb:Scan');
  });

  test('images writes only items under its own key prefixes, and objects only under artifacts/', () => {
    const images = s.stateless.functions.domains.images;
    const writes = statements(images).find((st) => Array.isArray(st.Action) && st.Action.includes('dynamodb:PutItem'));
    expect(writes?.Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['IMAGE#*', 'IMAGENAME#*', 'ARTIFACT#*', 'AUDIT#*', 'SNAPINPUT*'] } });
    const s3 = statements(images).filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3).toHaveLength(1);
    expect(s3[0]?.Action).toEqual(expect.arrayContaining(['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts']));
    expect(JSON.stringify(s3[0]?.Resource)).toMatch(/Skyboot-BucketArn.*\/artifacts\/\*/);
    // Every statement that can change an item carries the condition.
    for (const st of statements(images)) {
      const acts = Array.isArray(st.Action) ? st.Action : [st.Action];
      if (acts.some((a) => /dynamodb:(Put|Update|Delete|BatchWrite)/.test(a))) expect(st.Condition).toBeDefined();
    }
  });

  test('the finalizer reads artifacts and writes only image-owned items', () => {
    const fin = s.stateless.functions.finalizer;
    const acts = actionsOf(fin);
    expect(acts.filter((a) => a.startsWith('s3:')).sort()).toEqual(['s3:DeleteObject', 's3:GetObject']);
    const writes = statements(fin).find((st) => Array.isArray(st.Action) && st.Action.includes('dynamodb:PutItem'));
    expect(writes?.Condition).toBeDefined();
  });

  test('sites manages app clients on the pool only, and may update the JWT authorizer audience', () => {
    const sites = s.stateless.functions.domains.sites;
    const cognito = statements(sites).find((st) => JSON.stringify(st.Action).includes('cognito-idp:'));
    expect(cognito?.Action).toEqual(expect.arrayContaining(['cognito-idp:CreateUserPoolClient', 'cognito-idp:DeleteUserPoolClient', 'cognito-idp:DescribeUserPoolClient', 'cognito-idp:UpdateResourceServer']));
    expect(cognito?.Resource).toEqual({ 'Fn::ImportValue': 'Skyboot-UserPoolArn' });
    expect(actionsOf(sites)).toEqual(expect.arrayContaining(['apigateway:PATCH', 'ssm:PutParameter']));
    // Artifact and snapshot download URLs are presigned with this role: read-only, under those two
    // prefixes only (the builder writes snapshots); nothing else in the bucket.
    const s3 = statements(sites).filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3).toHaveLength(1);
    expect(s3[0]?.Action).toEqual('s3:GetObject');
    expect(JSON.stringify(s3[0]?.Resource)).toMatch(/Skyboot-BucketArn.*\/artifacts\/\*/);
    expect(JSON.stringify(s3[0]?.Resource)).toMatch(/Skyboot-BucketArn.*\/snapshots\/\*/);
    expect((s3[0]?.Resource as unknown[]).length).toBe(2);
    // It asks the snapshot builder for builds: that one function, asynchronously.
    const invoke = statements(sites).find((st) => JSON.stringify(st.Action).includes('lambda:InvokeFunction'));
    expect(invoke?.Resource).toEqual({ 'Fn::GetAtt': [logicalId(s.stateless.functions.snapshotBuilder, 'fn'), 'Arn'] });
    expect(envOf(sites)).toEqual(expect.objectContaining({ SKYBOOT_FUNCTION_SNAPSHOT_BUILDER: expect.anything() }));
    expect(envOf(sites)).toEqual(expect.objectContaining({ SKYBOOT_AUDIENCE_PARAMETER: '/skyboot/api/jwt-audience', SKYBOOT_HTTP_API_ID: expect.anything(), SKYBOOT_JWT_AUTHORIZER_ID: expect.anything(), SKYBOOT_TOKEN_ENDPOINT: expect.anything(), SKYBOOT_AGENT_CREDENTIALS: 'cognito' }));
  });
});

describe('snapshot builder', () => {
  test('writes snapshot objects under snapshots/ only, with 15 minutes to build', () => {
    const builder = s.stateless.functions.snapshotBuilder;
    const s3 = statements(builder).filter((st) => JSON.stringify(st.Action).includes('s3:'));
    expect(s3).toHaveLength(1);
    expect(s3[0]?.Action).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(JSON.stringify(s3[0]?.Resource)).toMatch(/Skyboot-BucketArn.*\/snapshots\/\*/);
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(builder, 'fn')] as { Properties: { Timeout: number } };
    expect(fn.Properties.Timeout).toBe(900);
  });
});

describe('S3 upload finalizer wiring', () => {
  test('object-created events under artifacts/ invoke the finalizer', () => {
    const fin = logicalId(s.stateless.functions.finalizer, 'fn');
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [{
          Events: ['s3:ObjectCreated:*'],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'artifacts/' }] } },
          LambdaFunctionArn: { 'Fn::GetAtt': [fin, 'Arn'] },
        }],
      },
      Managed: false,
    });
    template.hasResourceProperties('AWS::Lambda::Permission', { Principal: 's3.amazonaws.com', FunctionName: { 'Fn::GetAtt': [fin, 'Arn'] } });
  });
});

describe('HTTP API', () => {
  test('a JWT authorizer on the Cognito issuer with the audience resolved from the SSM parameter', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: Match.anyValue(), Audience: { Ref: Match.stringLikeRegexp('SsmParameterValue') } },
    });
    const params = template.toJSON().Parameters as Record<string, { Type: string; Default: string }>;
    expect(Object.values(params)).toContainEqual({ Type: 'AWS::SSM::Parameter::Value<List<String>>', Default: '/skyboot/api/jwt-audience' });
  });

  test('POST and GET /graphql require the JWT authorizer; there is no unauthenticated route', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as Resource[];
    expect(routes.map((r) => r.Properties.RouteKey).sort()).toEqual(['GET /graphql', 'POST /graphql']);
    const authorizer = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
    expect(authorizer).toHaveLength(1);
    for (const r of routes) {
      expect(r.Properties.AuthorizationType).toBe('JWT');
      expect(r.Properties.AuthorizerId).toEqual({ Ref: authorizer[0] });
    }
  });

  test('CORS is configured on the API from context', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      ProtocolType: 'HTTP',
      CorsConfiguration: Match.objectLike({ AllowOrigins: TEST_CONTEXT['skyboot:corsOrigins'], AllowCredentials: false }),
    });
  });

  test('the stage throttles and writes JSON access logs keyed by request id', () => {
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0] as Resource;
    expect(stage.Properties.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 25, ThrottlingBurstLimit: 60 });
    const format = JSON.parse((stage.Properties.AccessLogSettings as { Format: string }).Format) as Record<string, string>;
    expect(format.requestId).toBe('$context.requestId');
    expect(format.status).toBe('$context.status');
  });
});

describe('monitoring', () => {
  const alarms = () => Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];

  test('an API 5xx-rate alarm computed from 5xx and Count', () => {
    const rate = alarms().find((a) => JSON.stringify(a.Properties.Metrics ?? '').includes('100 * errors / requests'));
    expect(rate).toBeDefined();
    expect(JSON.stringify(rate?.Properties.Metrics)).toMatch(/"MetricName":"5xx".*"MetricName":"Count"|"MetricName":"Count".*"MetricName":"5xx"/);
  });

  test('error and throttle alarms for every function', () => {
    for (const f of s.stateless.functions.all()) {
      const fn = logicalId(f, 'fn');
      for (const metric of ['Errors', 'Throttles']) {
        const match = alarms().filter((a) => a.Properties.MetricName === metric && JSON.stringify(a.Properties.Dimensions).includes(fn));
        expect({ fn, metric, count: match.length }).toEqual({ fn, metric, count: 1 });
      }
    }
  });

  test('a DynamoDB throttling alarm over the table and its GSIs, all alarms notify the topic, and a dashboard exists', () => {
    const ddb = alarms().find((a) => JSON.stringify(a.Properties.Metrics ?? '').includes('WriteThrottleEvents'));
    expect(JSON.stringify(ddb?.Properties.Metrics)).toContain('GSI3');
    for (const a of alarms()) expect(a.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/MonitoringAlarms/) }]);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.org' });
  });
});

describe('settings', () => {
  test('no CORS origins means no CORS configuration at all', () => {
    const t = synthSkyboot({ ...TEST_CONTEXT, 'skyboot:corsOrigins': [] }).statelessTemplate;
    t.hasResourceProperties('AWS::ApiGatewayV2::Api', { CorsConfiguration: Match.absent() });
  });

  test('a custom domain without its certificate is refused', () => {
    expect(() => synthSkyboot({ ...TEST_CONTEXT, 'skyboot:domainName': 'api.example.org' })).toThrow(/certificateArn/);
  });
});
