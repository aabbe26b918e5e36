/** Request bodies of the observation routes: size-capped, JSON or form. */
import type { IncomingMessage } from 'node:http';
import { HttpError } from './respond.js';
import { RequestRefusedError } from './refusals.js';

/** Heartbeats and phone-home are a few hundred bytes; cloud-init's phone_home with keys a few KiB. */
export const MAX_OBSERVATION_BODY = 64 * 1024;

function tooLarge(max: number, what: string): RequestRefusedError {
  // Connection: close: the rest of an oversize body is not read, so the connection cannot be reused.
  return new RequestRefusedError(413, 'body-too-large', `body ${what} is larger than ${max} bytes`, null, { connection: 'close' });
}

export async function readBody(req: IncomingMessage, max = MAX_OBSERVATION_BODY): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) throw tooLarge(max, `(content-length ${declared})`);
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > max) throw tooLarge(max, '(chunked)');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function parseObject(text: string, type: string | undefined): Record<string, unknown> {
  if (type?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  if (!text.trim()) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through: cloud-init's phone_home posts a form without always naming it
  }
  if (text.includes('=')) return Object.fromEntries(new URLSearchParams(text));
  throw new HttpError(400, 'body: expected a JSON object or a form');
}
