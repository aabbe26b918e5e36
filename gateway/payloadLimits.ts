/**
 * Lambda's and API Gateway's payload limits, enforced by the local entries exactly where AWS
 * enforces them, so a local run or a test fails where production would:
 *
 * - a synchronous Invoke request (the event, JSON-serialized) over 6,291,456 bytes is refused
 *   by the Invoke API with RequestEntityTooLargeException;
 * - a function's response (JSON-serialized) over 6,291,556 bytes (100 bytes more than a
 *   request: that is what Lambda measures) is replaced by a Function.ResponseSizeTooLarge error;
 * - API Gateway (HTTP API) refuses a request body over 10 MiB with 413, and the gateway
 *   Lambda's own event and response are bound by the two limits above.
 *
 * The in-process invoker and the Lambda invoker both raise the same PayloadTooLargeError, so a
 * caller sees one message whichever path ran.
 */
import { GraphQLError } from 'graphql';

export const LAMBDA_REQUEST_LIMIT_BYTES = 6_291_456;
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6_291_556;
export const API_GATEWAY_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/** What the Invoke API answers for a request over the limit (its own words). */
export const INVOKE_REQUEST_TOO_LARGE = `Request must be smaller than ${LAMBDA_REQUEST_LIMIT_BYTES} bytes for the InvokeFunction operation`;
export const RESPONSE_TOO_LARGE_TYPE = 'Function.ResponseSizeTooLarge';

/** What the Lambda runtime reports for a response over the limit (its own words). */
export function responseTooLargeMessage(bytes: number): string {
  return `Response payload size (${bytes} bytes) exceeded maximum allowed payload size (${LAMBDA_RESPONSE_LIMIT_BYTES} bytes).`;
}

export type PayloadDirection = 'request' | 'response';

/**
 * An invoke whose request or response is over Lambda's limit. A GraphQLError with its own
 * code so the client learns which limit and how many bytes instead of a masked internal error.
 */
export class PayloadTooLargeError extends GraphQLError {
  constructor(
    readonly domain: string,
    readonly direction: PayloadDirection,
    readonly bytes: number | undefined,
  ) {
    const limit = direction === 'request' ? LAMBDA_REQUEST_LIMIT_BYTES : LAMBDA_RESPONSE_LIMIT_BYTES;
    const size = bytes === undefined ? 'over the limit' : `${bytes} bytes`;
    super(
      direction === 'request'
        ? `${domain} invoke refused: ${INVOKE_REQUEST_TOO_LARGE} (RequestEntityTooLargeException); the request is ${size}`
        : `${domain} invoke failed: ${bytes === undefined ? `Response payload size exceeded maximum allowed payload size (${limit} bytes).` : responseTooLargeMessage(bytes)} (${RESPONSE_TOO_LARGE_TYPE})`,
      { extensions: { code: 'PAYLOAD_TOO_LARGE', limitBytes: limit, ...(bytes === undefined ? {} : { bytes }) } },
    );
    this.name = 'PayloadTooLargeError';
  }
}

/** Bytes of a payload as Lambda counts them: the UTF-8 length of its JSON. */
export function jsonBytes(json: string): number {
  return Buffer.byteLength(json, 'utf8');
}

export function assertRequestFits(domain: string, json: string): void {
  const bytes = jsonBytes(json);
  if (bytes > LAMBDA_REQUEST_LIMIT_BYTES) throw new PayloadTooLargeError(domain, 'request', bytes);
}

export function assertResponseFits(domain: string, json: string): void {
  const bytes = jsonBytes(json);
  if (bytes > LAMBDA_RESPONSE_LIMIT_BYTES) throw new PayloadTooLargeError(domain, 'response', bytes);
}

/** Reads the byte count back out of the runtime's message (absent in older runtimes). */
export function bytesFromResponseTooLarge(message: string): number | undefined {
  const m = /Response payload size \((\d+) bytes\)/.exec(message);
  return m ? Number(m[1]) : undefined;
}
