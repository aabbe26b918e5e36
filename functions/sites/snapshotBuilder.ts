/**
 * The snapshot builder: builds a site's revision off the request path. A 100,000-node site's
 * build reads every component, binding and cloud-init item (40 s and more on DynamoDB Local),
 * beyond what the sites Lambda may take inside API Gateway's 29 s, so a pull that finds its
 * site's revision out of date asks for a build (requestSnapshotBuild) and waits a bounded time
 * for it; a slower build answers the next pull. In AWS the request is an asynchronous invoke of
 * this handler's own function (15 minutes; cdk/lib/handlers.ts SNAPSHOT_BUILDER); locally the
 * same function runs in-process, not awaited by the request.
 *
 * One build per site at a time (the build lease); a build that finds its inputs changed while it
 * read builds again, a bounded number of times, so the last write before a quiet period is in.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { clients, type Clients } from '../shared/clients.js';
import { logger } from '../shared/logger.js';
import { buildSnapshot } from './snapshotBuild.js';
import { snapshotInputsChangedSince } from './snapshotChanges.js';
import { claimSnapshotBuild, recordBuildError, recordRevision, releaseSnapshotBuild, siteItem } from './snapshotRevision.js';

/** Longer than a build may run (the builder function's 15 minutes): an abandoned lease expires. */
export const BUILD_LEASE_MS = 15 * 60_000;
const MAX_ROUNDS = 3;

export interface SnapshotBuildEvent {
  site: string;
}

/** Builds `site`'s revision unless another build holds the lease. Returns the builds it ran. */
export async function runSnapshotBuild(c: Clients, site: string): Promise<number> {
  if (!(await claimSnapshotBuild(c, site, BUILD_LEASE_MS))) return 0;
  let rounds = 0;
  try {
    for (; rounds < MAX_ROUNDS; rounds++) {
      const item = await siteItem(c, site);
      if (!item) return rounds;
      if (rounds > 0 && item.snapshotBuiltFrom && !(await snapshotInputsChangedSince(c, site, item.snapshotBuiltFrom, item.snapshotBuiltSeen))) break;
      const started = performance.now();
      const built = await buildSnapshot(c, site, item.domain, item.snapshotHash);
      const revision = await recordRevision(c, site, built, item);
      logger.info('snapshot built', { site, revision, nodes: built.nodes, changedNodes: built.changedNodes, bytes: built.bytes, ms: Math.round(performance.now() - started) });
    }
  } catch (err) {
    // The pulls waiting for this build report it instead of waiting out their time.
    logger.error('snapshot build failed', { site, err: (err as Error).message });
    await recordBuildError(c, site, err as Error).catch(() => undefined);
    throw err;
  } finally {
    await releaseSnapshotBuild(c, site);
  }
  return rounds;
}

let lambda: LambdaClient | undefined;

/**
 * Asks for a build of `site` and returns at once. SKYBOOT_FUNCTION_SNAPSHOT_BUILDER (set by the
 * CDK stack) names the builder function; without it (the local stack, tests) the build runs in
 * this process.
 */
export async function requestSnapshotBuild(c: Clients, site: string): Promise<void> {
  const fn = process.env.SKYBOOT_FUNCTION_SNAPSHOT_BUILDER;
  if (fn) {
    lambda ??= new LambdaClient({});
    const event: SnapshotBuildEvent = { site };
    await lambda.send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    return;
  }
  void runSnapshotBuild(c, site).catch(() => undefined); // logged and recorded by runSnapshotBuild
}

/** The builder function's entry (asynchronous invoke). */
export async function handler(event: SnapshotBuildEvent): Promise<{ builds: number }> {
  return { builds: await runSnapshotBuild(clients(), event.site) };
}
