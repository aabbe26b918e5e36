/**
 * The S3 event Lambda: ObjectCreated under artifacts/ (the CDK filters on that prefix) → verify.
 * Locally, localEvents.ts delivers s3rver's events to this same handler.
 */
import type { S3Event } from 'aws-lambda';
import { clients } from '../shared/clients.js';
import { logger } from '../shared/logger.js';
import { S3_KEY_PATTERN } from './keys.js';
import { verifyArtifact, type Verification } from './verify.js';

export interface FinalizerEvent {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string } } }[];
}

export async function handler(event: S3Event | FinalizerEvent): Promise<{ results: Verification[] }> {
  const c = clients();
  const results: Verification[] = [];
  for (const record of event.Records ?? []) {
    if (!record.eventName.startsWith('ObjectCreated')) continue;
    // S3 URL-encodes keys in events (spaces as '+').
    const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
    const m = S3_KEY_PATTERN.exec(key);
    if (!m) continue;
    try {
      results.push(await verifyArtifact(c, record.s3.bucket.name, m[1]!));
    } catch (err) {
      // Thrown: Lambda retries the event; verification is idempotent.
      logger.error('artifact verification failed to run', { key, error: err as Error });
      throw err;
    }
  }
  return { results };
}
