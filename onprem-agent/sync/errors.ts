/** How a call to the cloud failed: unreachable (retry later, with backoff) or refused (a GraphQL or OAuth error, with its code). */
export class CloudUnreachableError extends Error {}
export class CloudRequestError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}
/** HTTP 413: the request body is larger than the cloud accepts; sending it again cannot help. */
export class CloudRequestTooLargeError extends CloudRequestError {
  constructor(message: string) {
    super(message, 'PAYLOAD_TOO_LARGE');
  }
}
/** The whole content the cloud handed out does not hash to the revision's content hash; the stored snapshot stays. */
export class SnapshotHashMismatchError extends Error {}
