/** Creates the table and bucket on first start; a restart finds them and keeps every record. */
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand } from '@aws-sdk/client-s3';
import type { Clients } from '../functions/shared/clients.js';
import { tableDefinition } from '../functions/shared/table.js';

export async function ensureTableAndBucket(c: Clients): Promise<{ createdTable: boolean; createdBucket: boolean }> {
  let createdTable = false;
  try {
    await c.ddb.send(new DescribeTableCommand({ TableName: c.config.tableName }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    await c.ddb.send(new CreateTableCommand(tableDefinition(c.config.tableName)));
    createdTable = true;
  }
  for (;;) {
    const d = await c.ddb.send(new DescribeTableCommand({ TableName: c.config.tableName }));
    if (d.Table?.TableStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  let createdBucket = false;
  try {
    await c.s3.send(new HeadBucketCommand({ Bucket: c.config.bucketName }));
  } catch {
    await c.s3.send(new CreateBucketCommand({ Bucket: c.config.bucketName }));
    createdBucket = true;
  }
  return { createdTable, createdBucket };
}
