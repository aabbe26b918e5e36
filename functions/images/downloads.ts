/**
 * artifactDownloadUrls: presigned GETs for the agent's artifact cache. An agent gets URLs only
 * for READY artifacts that a boot configuration of its own site uses (directly or through an
 * image), so one site's token cannot pull another site's images.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BadUserInputError, ForbiddenError, NotFoundError } from '../../schema/errors.js';
import type { Clients } from '../shared/clients.js';
import type { OperationContext } from '../shared/handler.js';
import { siteScope } from '../shared/identity.js';
import { artifactPk, imagePk, s3KeyFor } from './keys.js';
import { getArtifactItems } from './store.js';
import { checkSha256 } from './validate.js';

export const DOWNLOAD_TTL_SECONDS = 3600;
const MAX_PER_CALL = 100;

async function refSites(c: Clients, pk: string): Promise<Set<string>> {
  const out = await c.doc.send(
    new QueryCommand({ TableName: c.config.tableName, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :r)', ExpressionAttributeValues: { ':pk': pk, ':r': 'REF#' } }),
  );
  return new Set((out.Items ?? []).map((i) => i.site as string).filter(Boolean));
}

async function usedBySite(c: Clients, sha256: string, site: string): Promise<boolean> {
  if ((await refSites(c, artifactPk(sha256))).has(site)) return true;
  const links = await c.doc.send(
    new QueryCommand({ TableName: c.config.tableName, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :i)', ExpressionAttributeValues: { ':pk': artifactPk(sha256), ':i': 'IMAGE#' } }),
  );
  for (const l of links.Items ?? []) if ((await refSites(c, imagePk(l.imageId as string))).has(site)) return true;
  return false;
}

export async function artifactDownloadUrls(args: { sha256s: string[] }, ctx: OperationContext) {
  const c = ctx.clients;
  if (args.sha256s.length > MAX_PER_CALL) throw new BadUserInputError('sha256s', `at most ${MAX_PER_CALL} per call`);
  const shas = args.sha256s.map((s, i) => checkSha256(s, `sha256s[${i}]`));
  const site = siteScope(ctx.identity);
  if (!site) throw new ForbiddenError('artifactDownloadUrls is for site agents (the token names no site)');
  const arts = await getArtifactItems(c, shas);
  const expiresAt = new Date(Date.now() + DOWNLOAD_TTL_SECONDS * 1000).toISOString();
  return Promise.all(
    shas.map(async (sha) => {
      const a = arts.get(sha);
      if (!a || a.status !== 'READY') throw new NotFoundError('READY artifact', sha, 'sha256s');
      if (!(await usedBySite(c, sha, site))) throw new ForbiddenError(`artifact ${sha} is not used by any boot configuration of site ${site}`);
      const url = await getSignedUrl(c.s3, new GetObjectCommand({ Bucket: c.config.bucketName, Key: s3KeyFor(sha) }), { expiresIn: DOWNLOAD_TTL_SECONDS });
      return { sha256: sha, size: a.size, url, expiresAt };
    }),
  );
}
