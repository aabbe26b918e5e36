/**
 * A fresh table and bucket per test file, on whatever endpoints the global setup chose,
 * so files running in parallel never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { clients, resetClients, type Clients } from '../../functions/shared/clients.js';
import { tableDefinition } from '../../functions/shared/table.js';

export interface TestAws {
  clients: Clients;
  tableName: string;
  bucketName: string;
  dispose(): Promise<void>;
}

export async function freshAws(prefix = 'test'): Promise<TestAws> {
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_DYNAMODB) {
    throw new Error('No AWS endpoint: test/support/globalSetup.ts did not run (looked for AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_DYNAMODB)');
  }
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
    },
  };
}
