/**
 * A fresh table and bucket per test file, on whatever endpoints the global setup chose,
 * so files running in parallel never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { clients, resetClients, type Clients } from '../../functions/shared/clients.js';
import { tableDefinition } from '../../functions/shared/table.js';
import { startDynamoDbLocal } from '../../local/emulators.js';

export interface TestAws {
  clients: Clients;
  tableName: string;
  bucketName: string;
  dispose(): Promise<void>;
}

export interface FreshAwsOptions {
  /**
   * With the embedded emulators, a DynamoDB Local of this suite's own, stopped by dispose().
   * For the suites that write tens of thousands of items: a worker's DynamoDB Local that has
   * served a hundred suites before answered their bulk transactions 10× slower than a fresh one
   * (past API Gateway's 29 s and the clients' timeouts), which DynamoDB itself never does.
   */
  ownDynamoDb?: boolean;
}

export async function freshAws(prefix = 'test', opts: FreshAwsOptions = {}): Promise<TestAws> {
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    throw new Error('No AWS endpoint: test/support/globalSetup.ts did not run (looked for AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_DYNAMODB)');
  }
  const sharedEndpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB;
  const own = opts.ownDynamoDb && !process.env.AWS_ENDPOINT_URL ? await startDynamoDbLocal() : null;
  if (own) process.env.AWS_ENDPOINT_URL_DYNAMODB = own.endpoint;
  const suffix = randomBytes(4).toString('hex');
  const tableName = `${prefix}-${suffix}`;
  const bucketName = `${prefix}-${suffix}`.toLowerCase();
  process.env.SKYBOOT_TABLE = tableName;
  process.env.SKYBOOT_BUCKET = bucketName;
  resetClients();
  const c = clients();
  await c.ddb.send(new CreateTableCommand(tableDefinition(tableName)));
  for (;;) {
    const d = await c.ddb.send(new DescribeTableCommand({ TableName: tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await c.s3.send(new CreateBucketCommand({ Bucket: bucketName }));
  return {
    clients: c,
    tableName,
    bucketName,
    dispose: async () => {
      await c.ddb.send(new DeleteTableCommand({ TableName: tableName })).catch(() => undefined);
      resetClients();
      if (own) {
        await own.stop();
        process.env.AWS_ENDPOINT_URL_DYNAMODB = sharedEndpoint;
      }
    },
  };
}
