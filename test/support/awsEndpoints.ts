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

/**
 * DynamoDB Local keeps all tables in one SQLite database behind one lock: a 10,000-item bulk
 * upsert in one worker made the other worker's suites wait past their timeouts ("timed out
 * waiting for a lock ... will succeed in actual DynamoDB"). AWS has no such lock, so each Jest
 * worker gets a DynamoDB Local of its own (test/support/workerEnvironment.mjs points the
 * worker at it); suites in one worker run one after another.
 */
export default async function globalSetup(globalConfig?: { maxWorkers?: number }): Promise<void> {
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
  const workers = Math.max(1, globalConfig?.maxWorkers ?? 1);
  const [s3, ...dynamos] = await Promise.all([
    startS3rver({ dir: mkdtempSync(join(tmpdir(), 'skyboot-s3-')) }),
    ...Array.from({ length: workers }, () => startDynamoDbLocal()),
  ]);
  running.push(s3!, ...dynamos);
  process.env.AWS_ENDPOINT_URL_DYNAMODB = dynamos[0]!.endpoint;
  process.env.SKYBOOT_TEST_DYNAMODB_ENDPOINTS = dynamos.map((d) => d.endpoint).join(',');
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  process.env.SKYBOOT_TEST_BACKEND = 'embedded (DynamoDB Local + s3rver)';
}
