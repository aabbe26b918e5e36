/**
 * The Lambdas: the GraphQL gateway, one function per domain, and the S3 upload finalizer.
 * Each gets its own role, granted only what its domain touches, and its own log group, so
 * one function's permissions or log retention never leak into another's.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { EventType, type IBucket } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { nodejsBundling } from './bundling.js';
import {
  ARTIFACT_PREFIX,
  DOMAINS,
  DOMAIN_HANDLERS,
  FINALIZER,
  CLAIM_EXPIRY,
  SNAPSHOT_BUILDER,
  GATEWAY,
  IMAGE_KEY_PREFIXES,
  SNAPSHOT_PREFIX,
  REPO_ROOT,
  SCHEMA_DIR_IN_LAMBDA,
  entryPath,
  functionEnvName,
  type Domain,
  type HandlerSpec,
} from './handlers.js';

export const RUNTIME = Runtime.NODEJS_22_X;
export const ARCHITECTURE = Architecture.ARM_64;
export const LOG_LEVEL = 'INFO';

export interface SkybootFunctionProps {
  spec: HandlerSpec;
  /** Short name: the Powertools service suffix and the construct id. */
  name: string;
  description: string;
  environment: Record<string, string>;
  /** Where the handler files are; the repository root except in unit tests. */
  entryRoot?: string;
}

/** One Lambda as every Skyboot function is built: bundled ESM, arm64, node 22, traced, its own role and logs. */
/** What the claim-expiry schedule writes: boot sessions and their node records, node boot state, and their audit records. */
const CLAIM_EXPIRY_KEY_PREFIXES = ['BOOTSESS#', 'BOOTSTATE#', 'AUDIT#'] as const;

export class SkybootFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: SkybootFunctionProps) {
    super(scope, id);
    const root = props.entryRoot ?? REPO_ROOT;
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      // Logs belong to the code, not the data: they go with the stateless stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Skyboot ${props.name}: ${props.description}`,
    });
    // Instead of the AWSLambdaBasicExecutionRole managed policy, which may write to any log group.
    this.role.addToPolicy(new PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));
    this.fn = new NodejsFunction(this, 'Function', {
      entry: entryPath(props.spec, root),
      handler: 'handler',
      projectRoot: root,
      depsLockFilePath: join(root, 'package-lock.json'),
      runtime: RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.spec.memoryMiB,
      timeout: Duration.seconds(props.spec.timeoutSeconds),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      description: props.description,
      bundling: nodejsBundling(props.spec),
      environment: {
        NODE_ENV: 'production',
        // Stack traces point at the TypeScript source through the bundled source maps.
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `skyboot-${props.name}`,
        LOG_LEVEL,
        SKYBOOT_LOG_LEVEL: LOG_LEVEL,
        ...props.environment,
      },
    });
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x (Node 22 LTS, the version bundles target and tests run on); moving to a newer runtime is a deliberate, tested upgrade, not a drift.',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions.',
    });
  }
}

export interface SkybootFunctionsProps {
  table: ITable;
  /** The table's name, imported as is rather than cut out of the ARN at deploy time. */
  tableName: string;
  /** Export names of the ARNs: cdk-nag names imported resources by them, so acknowledgements can too. */
  tableArnName: string;
  bucket: IBucket;
  bucketArnName: string;
  userPoolArn: string;
  userPoolId: string;
  defaultSite: string;
  sites: string[];
  entryRoot?: string;
}

const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem', 'dynamodb:DescribeTable'];
// No Scan: user requests are served by queries only (docs/conventions.md), and IAM holds the line.
const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];

export class SkybootFunctions extends Construct {
  readonly gateway: SkybootFunction;
  readonly domains: Record<Domain, SkybootFunction>;
  readonly finalizer: SkybootFunction;
  readonly claimExpiry: SkybootFunction;
  readonly snapshotBuilder: SkybootFunction;
  private readonly table: ITable;
  private readonly tableArnName: string;

  constructor(scope: Construct, id: string, props: SkybootFunctionsProps) {
    super(scope, id);
    this.table = props.table;
    this.tableArnName = props.tableArnName;
    const dataEnv = {
      SKYBOOT_TABLE: props.tableName,
      SKYBOOT_BUCKET: props.bucket.bucketName,
      SKYBOOT_DEFAULT_SITE: props.defaultSite,
      SKYBOOT_SITES: props.sites.join(','),
    };
    const make = (name: string, spec: HandlerSpec, description: string, environment: Record<string, string> = {}) =>
      new SkybootFunction(this, name, { spec, name, description, environment: { ...dataEnv, ...environment }, ...(props.entryRoot ? { entryRoot: props.entryRoot } : {}) });

    this.domains = Object.fromEntries(
      DOMAINS.map((domain) => [domain, make(domain, DOMAIN_HANDLERS[domain], `${domain} domain resolvers`)]),
    ) as Record<Domain, SkybootFunction>;

    for (const domain of ['inventory', 'boot', 'orchestration', 'sites'] as const) this.grantItems(this.domains[domain]);

    // images: its own items only, plus the object actions presigned uploads and downloads need.
    const images = this.domains.images;
    this.grantItems(images, IMAGE_KEY_PREFIXES);
    images.role.addToPolicy(new PolicyStatement({
      // PutObject covers CreateMultipartUpload, UploadPart and CompleteMultipartUpload; DeleteObject serves deleteImage.
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [props.bucket.arnForObjects(`${ARTIFACT_PREFIX}*`)],
    }));
    Validations.of(images.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${props.bucketArnName}/${ARTIFACT_PREFIX}*]`,
      reason: 'Artifacts are content-addressed keys (artifacts/sha256/<hash>) known only at run time; object actions only, under artifacts/ only.',
    });

    // sites: creates and deletes agent app clients and their site scopes, then refreshes the API's accepted audience.
    const sites = this.domains.sites;
    sites.role.addToPolicy(new PolicyStatement({
      actions: [
        'cognito-idp:CreateUserPoolClient',
        'cognito-idp:DeleteUserPoolClient',
        'cognito-idp:DescribeUserPoolClient',
        'cognito-idp:ListUserPoolClients',
        'cognito-idp:DescribeResourceServer',
        'cognito-idp:UpdateResourceServer',
      ],
      resources: [props.userPoolArn],
    }));
    sites.fn.addEnvironment('SKYBOOT_USER_POOL_ID', props.userPoolId);
    sites.fn.addEnvironment('SKYBOOT_AGENT_CREDENTIALS', 'cognito');
    // Agents' snapshots carry presigned GET URLs for their artifacts (functions/sites/snapshot.ts); read only.
    sites.role.addToPolicy(new PolicyStatement({
      actions: ['s3:GetObject'],
      resources: [props.bucket.arnForObjects(`${ARTIFACT_PREFIX}*`)],
    }));
    Validations.of(sites.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${props.bucketArnName}/${ARTIFACT_PREFIX}*]`,
      reason: 'Presigned downloads of whichever content-addressed artifacts a site snapshot names; GetObject only, under artifacts/ only.',
    });
    // Built snapshots (content, hash index, deltas) are handed to agents as presigned GETs; the builder writes them.
    this.grantSnapshotObjects(sites, ['s3:GetObject'], props.bucket, props.bucketArnName);

    this.finalizer = make('finalizer', FINALIZER, 'verifies uploaded artifacts (sha256) and marks images READY');
    this.grantItems(this.finalizer, IMAGE_KEY_PREFIXES);
    this.finalizer.role.addToPolicy(new PolicyStatement({
      // Reads the upload to hash it; deletes it when the sha256 does not match the declared one.
      actions: ['s3:GetObject', 's3:DeleteObject'],
      resources: [props.bucket.arnForObjects(`${ARTIFACT_PREFIX}*`)],
    }));
    Validations.of(this.finalizer.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${props.bucketArnName}/${ARTIFACT_PREFIX}*]`,
      reason: 'The finalizer verifies whichever artifact was just uploaded (key known only from the event); limited to the artifacts/ prefix.',
    });
    // The bucket is imported, so the notification wiring (a custom resource) lives in this stack
    // and the stateful stack never depends on a function.
    props.bucket.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.finalizer.fn), { prefix: ARTIFACT_PREFIX });
    // The CDK's own singleton Lambda that applies the notification configuration at deploy time.
    for (const child of Stack.of(this).node.children) {
      if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CDK-provided deploy-time handler that sets the bucket notification; it runs only during deployments and its role is not configurable.',
      });
    }

    // Site snapshot revisions are built off the request path: the sites function invokes the
    // builder asynchronously (functions/sites/snapshotBuilder.ts) and answers from the stored revision.
    this.snapshotBuilder = make('snapshotBuilder', SNAPSHOT_BUILDER, 'builds site snapshot revisions off the request path');
    this.grantItems(this.snapshotBuilder);
    // Written once per revision: content, hash index, and the delta from the previous one (read back to diff).
    this.grantSnapshotObjects(this.snapshotBuilder, ['s3:GetObject', 's3:PutObject'], props.bucket, props.bucketArnName);
    sites.role.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.snapshotBuilder.fn.functionArn] }));
    sites.fn.addEnvironment('SKYBOOT_FUNCTION_SNAPSHOT_BUILDER', this.snapshotBuilder.fn.functionName);

    // The same handler the local stack runs on a timer (local/start.ts): expired boot-session claims go back to PENDING.
    this.claimExpiry = make('claimExpiry', CLAIM_EXPIRY, 'expires boot-session claims of agents that went away');
    // It moves session node records, sessions and boot state back (orchestration's keys.ts); nothing else.
    this.grantItems(this.claimExpiry, CLAIM_EXPIRY_KEY_PREFIXES);
    new Rule(this, 'ClaimExpirySchedule', { schedule: Schedule.rate(Duration.minutes(1)), targets: [new LambdaFunction(this.claimExpiry.fn)] });

    const domainEnv = Object.fromEntries(DOMAINS.map((d) => [functionEnvName(d), this.domains[d].fn.functionName]));
    this.gateway = make('gateway', GATEWAY, 'GraphQL gateway (Apollo Server)', {
      SKYBOOT_INVOKER: 'lambda',
      SKYBOOT_SCHEMA_DIR: SCHEMA_DIR_IN_LAMBDA,
      ...domainEnv,
    });
    this.gateway.role.addToPolicy(new PolicyStatement({
      actions: ['lambda:InvokeFunction'],
      resources: DOMAINS.map((d) => this.domains[d].fn.functionArn),
    }));
  }

  /** Every function, for alarms and dashboards. */
  all(): SkybootFunction[] {
    return [this.gateway, ...DOMAINS.map((d) => this.domains[d]), this.finalizer, this.claimExpiry];
  }

  /**
   * Item access on the table and its indexes. With `writePrefixes`, writes are allowed only to
   * items whose partition key starts with one of them (dynamodb:LeadingKeys); reads stay open
   * because a domain may look at others' items (an image's users, say) without changing them.
   */
  /** Object actions under snapshots/ only: the keys are named by site and content hash, known only at run time. */
  private grantSnapshotObjects(target: SkybootFunction, actions: string[], bucket: IBucket, bucketArnName: string): void {
    target.role.addToPolicy(new PolicyStatement({ actions, resources: [bucket.arnForObjects(`${SNAPSHOT_PREFIX}*`)] }));
    Validations.of(target.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketArnName}/${SNAPSHOT_PREFIX}*]`,
      reason: `Snapshot objects are named by site and content hash (snapshots/<site>/<sha256>...), known only at run time; ${actions.join(' and ')} only, under snapshots/ only.`,
    });
  }

  private grantItems(target: SkybootFunction, writePrefixes?: readonly string[]): void {
    const indexes = `${this.table.tableArn}/index/*`;
    target.role.addToPolicy(new PolicyStatement({ actions: READ_ACTIONS, resources: [this.table.tableArn, indexes] }));
    target.role.addToPolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      actions: WRITE_ACTIONS,
      resources: [this.table.tableArn],
      ...(writePrefixes
        ? { conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': writePrefixes.map((p) => `${p}*`) } } }
        : {}),
    }));
    Validations.of(target.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${this.tableArnName}/index/*]`,
      reason: 'Queries on the table\'s global secondary indexes (GSI1..GSI3); read actions only, on this one table.',
    });
  }
}
