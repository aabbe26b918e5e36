/**
 * The data that outlives any deployment of the code: the one DynamoDB table and the image
 * bucket. Both are retained when their stack is deleted, so tearing the stateless stack
 * down (or even this one, by mistake) never deletes inventory or images.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AttributeType, BillingMode, StreamViewType, Table, TableEncryption, type ProjectionType } from 'aws-cdk-lib/aws-dynamodb';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { tableDefinition, TTL_ATTRIBUTE } from '../../functions/shared/table.js';

export interface SkybootDataProps {
  /** Physical table name; CloudFormation picks one when absent. */
  tableName?: string;
}

export class SkybootData extends Construct {
  readonly table: Table;
  readonly bucket: Bucket;
  readonly accessLogs: Bucket;

  constructor(scope: Construct, id: string, props: SkybootDataProps = {}) {
    super(scope, id);
    this.table = tableFromDefinition(this, 'Table', props.tableName);

    // Server access logs for the image bucket: who fetched which image, for audits.
    this.accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 server access logging only delivers to SSE-S3 buckets.
      encryption: BucketEncryption.S3_MANAGED,
      // Log delivery is granted by bucket policy (cdk.json: serverAccessLogsUseBucketPolicy), so ACLs stay off.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log destination bucket; logging it into itself would loop and logging it elsewhere only moves the question.',
    });

    this.bucket = new Bucket(this, 'Images', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'images/',
      lifecycleRules: [
        // Abandoned presigned multipart uploads otherwise cost storage forever, invisibly.
        { id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        // Keys are content-addressed, so an old version is only ever a deleted image: keep it a month to undo mistakes.
        { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(30) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/** The CDK table built from functions/shared/table.ts, so the local stack, tests and AWS share one key design. */
function tableFromDefinition(scope: Construct, id: string, tableName: string | undefined): Table {
  const def = tableDefinition(tableName ?? 'unused');
  const attrType = (name: string): AttributeType => {
    const t = def.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
    if (t === 'S') return AttributeType.STRING;
    if (t === 'N') return AttributeType.NUMBER;
    if (t === 'B') return AttributeType.BINARY;
    throw new Error(`table definition has no attribute type for ${name}`);
  };
  const key = (schema: { AttributeName?: string | undefined; KeyType?: string | undefined }[] | undefined, type: 'HASH' | 'RANGE') => {
    const name = schema?.find((k) => k.KeyType === type)?.AttributeName;
    return name === undefined ? undefined : { name, type: attrType(name) };
  };
  const partitionKey = key(def.KeySchema, 'HASH');
  if (!partitionKey) throw new Error('table definition has no partition key');
  const sortKey = key(def.KeySchema, 'RANGE');
  if (def.BillingMode !== 'PAY_PER_REQUEST') throw new Error(`table definition billing ${String(def.BillingMode)} is not on-demand`);
  const streamView = def.StreamSpecification?.StreamEnabled ? def.StreamSpecification.StreamViewType : undefined;

  const table = new Table(scope, id, {
    ...(tableName ? { tableName } : {}),
    partitionKey,
    ...(sortKey ? { sortKey } : {}),
    billingMode: BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: TableEncryption.AWS_MANAGED,
    deletionProtection: true,
    timeToLiveAttribute: TTL_ATTRIBUTE,
    ...(streamView ? { stream: streamView as StreamViewType } : {}),
    removalPolicy: RemovalPolicy.RETAIN,
  });
  for (const gsi of def.GlobalSecondaryIndexes ?? []) {
    const pk = key(gsi.KeySchema, 'HASH');
    if (!gsi.IndexName || !pk) throw new Error('table definition has a GSI without a name or partition key');
    const sk = key(gsi.KeySchema, 'RANGE');
    table.addGlobalSecondaryIndex({
      indexName: gsi.IndexName,
      partitionKey: pk,
      ...(sk ? { sortKey: sk } : {}),
      projectionType: (gsi.Projection?.ProjectionType ?? 'ALL') as ProjectionType,
    });
  }
  return table;
}
