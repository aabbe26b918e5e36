/**
 * The single table's physical shape: generic key attributes and three overloaded GSIs.
 * Each domain documents its own item layouts in docs/data-model.md; this file is the one
 * definition the local stack, the tests and the CDK stack create the table from.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const KEY = { pk: 'PK', sk: 'SK' } as const;
export const INDEXES = {
  GSI1: { pk: 'GSI1PK', sk: 'GSI1SK' },
  GSI2: { pk: 'GSI2PK', sk: 'GSI2SK' },
  GSI3: { pk: 'GSI3PK', sk: 'GSI3SK' },
} as const;
export type IndexName = keyof typeof INDEXES;

/** Items with a `ttl` (epoch seconds) expire: idempotency receipts, for example. */
export const TTL_ATTRIBUTE = 'ttl';

export function tableDefinition(tableName: string): CreateTableCommandInput {
  const attrs = [KEY.pk, KEY.sk, ...Object.values(INDEXES).flatMap((i) => [i.pk, i.sk])];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attrs.map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: KEY.pk, KeyType: 'HASH' },
      { AttributeName: KEY.sk, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: Object.entries(INDEXES).map(([IndexName, k]) => ({
      IndexName,
      KeySchema: [
        { AttributeName: k.pk, KeyType: 'HASH' },
        { AttributeName: k.sk, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
  };
}
