/**
 * The cloud for agent tests: a test gateway on a fresh table, with an s3rver of this test file's
 * own (the images domain's multipart uploads need the shimmed s3rver local/emulators.ts starts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3rver } from '../../../local/emulators.js';
import { addMultipartListing } from '../../../functions/images/localEvents.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';
import { SNAPSHOT_QUERY } from '../../../onprem-agent/sync/cloudClient.js';
import { resolveSnapshot } from '../../../onprem-agent/sync/snapshotTransfer.js';
import type { SiteSnapshot } from '../../../schema/siteSnapshot.js';
import type { SiteSnapshotAnswer } from '../../../schema/snapshotDelta.js';

export interface TestCloud {
  gw: TestGateway;
  close(): Promise<void>;
}

export async function startTestCloud(opts: { ownDynamoDb?: boolean; console?: boolean } = {}): Promise<TestCloud> {
  const dir = mkdtempSync(join(tmpdir(), 'skyboot-sync-s3-'));
  const s3 = await startS3rver({ dir });
  addMultipartListing(s3.server);
  const previous = process.env.AWS_ENDPOINT_URL_S3;
  process.env.AWS_ENDPOINT_URL_S3 = s3.endpoint;
  const gw = await startTestGateway({ ownDynamoDb: opts.ownDynamoDb ?? false, console: opts.console ?? false });
  return {
    gw,
    async close() {
      await gw.close();
      await s3.stop();
      if (previous === undefined) delete process.env.AWS_ENDPOINT_URL_S3;
      else process.env.AWS_ENDPOINT_URL_S3 = previous;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type PulledSnapshot = Omit<SiteSnapshotAnswer, 'artifacts'> & Partial<Omit<SiteSnapshot, 'artifacts'>> & { artifacts: SiteSnapshot['artifacts'] | null };

/**
 * siteSnapshot through the gateway, then (unless unchanged) its whole content fetched the way
 * the agent fetches it: the answer's fields plus the content's.
 */
export async function pullSnapshot(gw: TestGateway, token: string, since: number | null): Promise<PulledSnapshot> {
  const r = await gw.gql<{ siteSnapshot: SiteSnapshotAnswer }>(SNAPSHOT_QUERY, { since }, token);
  if (r.errors) throw new Error(JSON.stringify(r.errors));
  const answer = r.data!.siteSnapshot;
  if (answer.unchanged) return answer;
  const { snapshot } = await resolveSnapshot(answer, null);
  return { ...answer, ...snapshot };
}
