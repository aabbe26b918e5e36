/**
 * The one place AWS SDK clients are made, so every domain shares their connection pools
 * and the local-emulator settings live in one spot.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type SkybootConfig } from './config.js';

export interface Clients {
  config: SkybootConfig;
  ddb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  s3: S3Client;
}

export function makeClients(config: SkybootConfig): Clients {
  const local = config.local
    ? {
        credentials: {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER',
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER',
        },
      }
    : {};
  const ddb = new DynamoDBClient({
    region: config.region,
    ...local,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
  });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  const s3 = new S3Client({
    region: config.region,
    ...local,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.local,
    // s3rver does not implement the flexible checksums SDK v3 sends by default; real S3 keeps them.
    ...(config.local ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
  });
  return { config, ddb, doc, s3 };
}

let shared: Clients | undefined;

/** The process-wide clients, built from the environment on first use. */
export function clients(): Clients {
  shared ??= makeClients(loadConfig());
  return shared;
}

/** The local stack and tests re-point the clients after changing the environment. */
export function resetClients(): void {
  shared?.ddb.destroy();
  shared?.s3.destroy();
  shared = undefined;
}
