/**
 * The authorization server's key set (Cognito's JWKS in AWS, the local provider's locally),
 * fetched over node:http(s) and cached as jose's createRemoteJWKSet caches it: refetched when
 * older than ten minutes, or when a token names a key the set lacks (a rotation) and the set is
 * older than thirty seconds; one fetch at a time; five seconds per fetch; no redirects followed.
 *
 * Why not createRemoteJWKSet itself: it builds a WHATWG `Headers` when created and fetches with
 * `fetch`, and either loads Node's bundled undici (about 25 ms, a sixth of the gateway Lambda's
 * init, and its cold start's first request would pay it if creation waited). node:http and
 * node:https are loaded anyway by the AWS SDK's request handler. The keys themselves are still
 * matched by jose (createLocalJWKSet), which also validates the set's shape.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createLocalJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

export interface RemoteKeySetOptions {
  /** Refetch a set older than this before using it (jose's cacheMaxAge default). */
  maxAgeMs?: number;
  /** A token with an unknown key refetches only a set older than this (jose's cooldownDuration default). */
  cooldownMs?: number;
  /** One fetch's limit (jose's timeoutDuration default). */
  timeoutMs?: number;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

/** A key set's answer is small (a few keys); anything larger is not one. */
const MAX_JWKS_BYTES = 1024 * 1024;

export function fetchKeySet(url: URL, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : url.protocol === 'http:' ? httpRequest : undefined;
    if (!send) {
      reject(new TypeError(`JWKS URL must be http or https: ${url.href}`));
      return;
    }
    const req = send(url, { method: 'GET', headers: { accept: 'application/json, application/jwk-set+json', 'user-agent': 'skyboot-gateway' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new errors.JOSEError(`Expected 200 OK from the JSON Web Key Set HTTP response (got ${res.statusCode})`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes > MAX_JWKS_BYTES) req.destroy(new errors.JOSEError(`JSON Web Key Set HTTP response is over ${MAX_JWKS_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch (cause) {
          reject(new errors.JOSEError('Failed to parse the JSON Web Key Set HTTP response as JSON', { cause }));
        }
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new errors.JWKSTimeout()), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  });
}

export function remoteKeySet(url: URL, opts: RemoteKeySetOptions = {}): JWTVerifyGetKey {
  const maxAgeMs = opts.maxAgeMs ?? 600_000;
  const cooldownMs = opts.cooldownMs ?? 30_000;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const now = opts.now ?? Date.now;
  let local: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;

  const reload = (): Promise<void> => {
    // Concurrent verifications share one fetch.
    pending ??= fetchKeySet(url, timeoutMs)
      .then((json) => {
        local = createLocalJWKSet(json as JSONWebKeySet);
        fetchedAt = now();
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return async (protectedHeader, token) => {
    if (!local || now() >= fetchedAt + maxAgeMs) await reload();
    try {
      return await local!(protectedHeader, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey && now() >= fetchedAt + cooldownMs) {
        await reload();
        return local!(protectedHeader, token);
      }
      throw err;
    }
  };
}
