/**
 * One source of AWS endpoints for the whole suite, chosen in this order:
 *  1. AWS_ENDPOINT_URL already set: use it as it is (an emulator someone else runs);
 *  2. a Docker engine answers: LocalStack through Testcontainers (tag pinned ≤ 4.14: later
 *     tags need a licence token);
 *  3. otherwise the embedded emulators: DynamoDB Local (Java) and s3rver.
 * Workers inherit the environment set here; tests make their own tables and buckets
 * (test/support/aws.ts), so nothing here knows about Skyboot's data.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDynamoDbLocal, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { dockerEngineAnswers } from './dockerEngine.js';

export const LOCALSTACK_IMAGE = 'localstack/localstack:4.4';

declare global {
  var __skybootEmulators: RunningEmulator[] | undefined;
}

export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
  process.env.SKYBOOT_LOCAL = '1';
  const running: RunningEmulator[] = [];
  globalThis.__skybootEmulators = running;

  if (process.env.AWS_ENDPOINT_URL) {
    process.env.SKYBOOT_TEST_BACKEND = `external ${process.env.AWS_ENDPOINT_URL}`;
    return;
  }
  if (await dockerEngineAnswers()) {
    const { LocalstackContainer } = await import('@testcontainers/localstack');
    const container = await new LocalstackContainer(LOCALSTACK_IMAGE).withEnvironment({ SERVICES: 'dynamodb,s3,lambda' }).start();
    const endpoint = container.getConnectionUri();
    process.env.AWS_ENDPOINT_URL = endpoint;
    process.env.SKYBOOT_TEST_BACKEND = `localstack ${LOCALSTACK_IMAGE}`;
    running.push({ endpoint, stop: async () => void (await container.stop()) });
    return;
  }
  const [dynamo, s3] = await Promise.all([
    startDynamoDbLocal(),
    startS3rver({ dir: mkdtempSync(join(tmpdir(), 'skyboot-s3-')) }),
  ]);
  running.push(dynamo, s3);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamo.endpoint;
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.SKYBOOT_TEST_BACKEND = 'embedded (DynamoDB Local + s3rver)';
}
