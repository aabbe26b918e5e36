/**
 * Request limits both halves must agree on: the gateway refuses a larger body (Lambda's
 * synchronous invoke payload limit, which the local entry enforces too), and the agent's outbox
 * sizes its batches under it.
 */
export const MAX_REQUEST_BODY_BYTES = 6 * 1024 * 1024;
