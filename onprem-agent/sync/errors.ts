/** How a call to the cloud failed: unreachable (retry later, with backoff) or refused (a GraphQL or OAuth error, with its code). */
export class CloudUnreachableError extends Error {}
export class CloudRequestError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
  }
}
