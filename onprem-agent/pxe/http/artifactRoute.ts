/**
 * GET/HEAD /artifacts/sha256/<hex>: a verified artifact from the content-addressed cache. Node's
 * http module has no sendfile(2); the bytes stream from fs.createReadStream through pipeline,
 * which keeps memory flat and honours backpressure, and the page cache serves repeated reads.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { log } from '../../logger.js';
import type { BootStage } from '../../timeline/bootTimeline.js';
import { nodeOfRequester } from './nodeScope.js';
import { parseRange } from './range.js';
import { HttpError } from './respond.js';
import type { HttpServices, Route } from './route.js';

const HEX64 = /^[0-9a-f]{64}$/;

export function artifactRoutes(s: HttpServices): Route[] {
  const { counters } = s;
  /** The fetching node's timeline: which of its boot artifacts this is. Anonymous fetches are not recorded. */
  const recordFetch = (requester: string | null, sha: string, detail: string): void => {
    if (!s.opts.timeline) return;
    const node = nodeOfRequester(s.opts.index(), s.opts.leases, requester);
    const b = node?.boot;
    if (!node || !b) return;
    const stage: BootStage | null = sha === b.kernel ? 'http.kernel' : sha === b.initrd ? 'http.initrd' : sha === b.rootfs ? 'http.rootfs' : null;
    if (stage) s.opts.timeline.record({ xname: node.xname, stage, at: new Date().toISOString(), detail });
  };
  return [
    {
      method: 'GET',
      pattern: /^\/artifacts\/sha256\/([^/]+)$/,
      handle: async ({ req, res, params, requester }) => {
        const sha = params[0]!;
        if (!HEX64.test(sha)) throw new HttpError(404, 'not a sha256');
        const path = await s.opts.cache.verifiedPath(sha);
        if (!path) throw new HttpError(404, `artifact ${sha} is not in this agent's verified cache`);
        const size = (await stat(path)).size;
        const etag = `"sha256-${sha}"`;
        const headers: Record<string, string> = {
          etag,
          'accept-ranges': 'bytes',
          // Content-addressed: the bytes behind this URL never change.
          'cache-control': 'public, max-age=31536000, immutable',
          'content-type': 'application/octet-stream',
        };
        const inm = req.headers['if-none-match'];
        if (inm && (inm.trim() === '*' || inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag))) {
          counters.notModified++;
          res.writeHead(304, headers);
          res.end();
          return;
        }
        // If-Range with another validator: the client's partial copy is of different bytes.
        const ifRange = req.headers['if-range'];
        const range = ifRange && ifRange !== etag ? { kind: 'full' as const } : parseRange(req.headers.range, size);
        if (range.kind === 'unsatisfiable') {
          res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': '0' });
          res.end();
          return;
        }
        const [start, end, status] = range.kind === 'partial' ? [range.start, range.end, 206] : [0, size - 1, 200];
        if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${size}`;
        headers['content-length'] = String(size === 0 ? 0 : end - start + 1);
        res.writeHead(status, headers);
        counters.artifacts++;
        // One event per fetch, not per range of a resumed download.
        if (start === 0) recordFetch(requester, sha, req.method === 'HEAD' ? 'HEAD' : `${end - start + 1} bytes`);
        if (req.method === 'HEAD' || size === 0) {
          res.end();
          return;
        }
        const stream = createReadStream(path, { start, end, highWaterMark: 1024 * 1024 });
        stream.on('data', (c) => { counters.artifactBytes += (c as Buffer).length; });
        await pipeline(stream, res).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ERR_STREAM_PREMATURE_CLOSE') log.warn({ sha256: sha, err: err.message }, 'artifact stream ended early');
        });
      },
    },
  ];
}
