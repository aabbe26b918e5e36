import { PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { freshAws, type TestAws } from '../../support/aws.js';

describe('test harness AWS endpoints', () => {
  let aws: TestAws;
  beforeAll(async () => {
    aws = await freshAws('harness');
  });
  afterAll(() => aws.dispose());

  it(`stores and reads a DynamoDB item and an S3 object on the chosen backend (${process.env.SKYBOOT_TEST_BACKEND})`, async () => {
    const { doc, s3 } = aws.clients;
    await doc.send(new PutCommand({ TableName: aws.tableName, Item: { PK: 'a', SK: 'b', v: 42 } }));
    const got = await doc.send(new GetCommand({ TableName: aws.tableName, Key: { PK: 'a', SK: 'b' } }));
    expect(got.Item?.v).toBe(42);
    await s3.send(new PutObjectCommand({ Bucket: aws.bucketName, Key: 'k', Body: 'hello' }));
    const obj = await s3.send(new GetObjectCommand({ Bucket: aws.bucketName, Key: 'k' }));
    expect(await obj.Body?.transformToString()).toBe('hello');
  });
});
