/**
 * Local-stack glue for s3rver, used by `npm start`, the tests and the upload bench:
 * - delivers s3rver's S3 notifications to the same finalizer handler the CDK wires in AWS;
 * - adds the two multipart calls s3rver 3 lacks (ListParts and AbortMultipartUpload), answered
 *   from s3rver's own upload directory, so the resume path runs locally exactly as on S3.
 * Nothing else in the domain knows which S3 it talks to.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type S3rver from 's3rver';
import type { S3rverEvent } from 's3rver';
import { logger } from '../shared/logger.js';
import { handler as finalize } from './finalizer.js';

export interface LocalEventDelivery {
  /** Resolves when every event delivered so far has been handled. */
  idle(): Promise<void>;
  /** Errors the finalizer threw (Lambda would retry; locally they are logged and kept here). */
  errors: Error[];
  stop(): void;
}

interface S3rverInternals {
  httpServer?: Server;
  store: { getResourcePath(bucket: string, key: string | undefined, resource: string): string };
}

function xml(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/xml' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function listParts(store: S3rverInternals['store'], bucket: string, key: string, uploadId: string, url: URL, res: ServerResponse): Promise<void> {
  const dir = join(store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return xml(res, 404, `<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message><UploadId>${esc(uploadId)}</UploadId></Error>`);
  }
  const marker = Number(url.searchParams.get('part-number-marker') ?? 0);
  const max = Math.min(1000, Number(url.searchParams.get('max-parts') ?? 1000));
  const numbers = names.filter((n) => /^\d+$/.test(n)).map(Number).filter((n) => n > marker).sort((a, b) => a - b);
  const page = numbers.slice(0, max);
  const parts = await Promise.all(
    page.map(async (n) => {
      // A part is listed only once its .md5 exists: s3rver writes that after the bytes are complete.
      const md5 = await readFile(join(dir, `${n}.md5`), 'utf8').catch(() => null);
      if (md5 === null) return '';
      const st = await stat(join(dir, String(n)));
      return `<Part><PartNumber>${n}</PartNumber><LastModified>${st.mtime.toISOString()}</LastModified><ETag>"${md5}"</ETag><Size>${st.size}</Size></Part>`;
    }),
  );
  const truncated = numbers.length > page.length;
  xml(
    res,
    200,
    `<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${esc(bucket)}</Bucket><Key>${esc(key)}</Key><UploadId>${esc(uploadId)}</UploadId>` +
      `<PartNumberMarker>${marker}</PartNumberMarker><NextPartNumberMarker>${page.at(-1) ?? marker}</NextPartNumberMarker><MaxParts>${max}</MaxParts>` +
      `<IsTruncated>${truncated}</IsTruncated>${parts.join('')}</ListPartsResult>`,
  );
}

/** Serves ListParts / AbortMultipartUpload in front of s3rver's own request handler. */
export function addMultipartListing(server: S3rver): void {
  const internals = server as unknown as S3rverInternals;
  const http = internals.httpServer;
  if (!http) throw new Error('addMultipartListing: call it after s3rver.run()');
  if ((http as Server & { __skybootListParts?: boolean }).__skybootListParts) return;
  (http as Server & { __skybootListParts?: boolean }).__skybootListParts = true;
  const original = http.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  http.removeAllListeners('request');
  http.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://s3rver.local');
    const uploadId = url.searchParams.get('uploadId');
    const [, bucket, ...keyParts] = url.pathname.split('/');
    const intercept = uploadId && bucket && keyParts.length && !url.searchParams.has('partNumber') && (req.method === 'GET' || req.method === 'DELETE');
    if (!intercept) {
      for (const l of original) l.call(http, req, res);
      return;
    }
    const key = decodeURIComponent(keyParts.join('/'));
    req.resume();
    const done =
      req.method === 'GET'
        ? listParts(internals.store, bucket, key, uploadId, url, res)
        : rm(join(internals.store.getResourcePath(bucket, undefined, 'uploads'), uploadId), { recursive: true, force: true }).then(() => {
            res.writeHead(204);
            res.end();
          });
    done.catch((err: Error) => {
      res.writeHead(500);
      res.end(err.message);
    });
  });
}

/**
 * Delivers s3rver's notifications to the finalizer (and adds ListParts). `bucket` limits delivery
 * to one bucket (tests share an s3rver); events for other buckets are ignored.
 */
export function deliverS3rverEvents(server: S3rver, opts: { bucket?: string } = {}): LocalEventDelivery {
  addMultipartListing(server);
  const inflight = new Set<Promise<void>>();
  const errors: Error[] = [];
  const listener = (event: S3rverEvent) => {
    const records = event.Records.filter((r) => !opts.bucket || r.s3.bucket.name === opts.bucket);
    if (!records.length) return;
    const p: Promise<void> = finalize({ Records: records })
      .then(() => undefined)
      .catch((err: Error) => {
        errors.push(err);
        logger.error('local S3 event delivery failed', { error: err });
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  server.on('event', listener);
  return {
    errors,
    idle: async () => {
      while (inflight.size) await Promise.all([...inflight]);
    },
    stop: () => void server.removeListener('event', listener as (...args: unknown[]) => void),
  };
}
