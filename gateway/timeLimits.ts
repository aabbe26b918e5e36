/**
 * Lambda's time limits, enforced by the in-process invoker as AWS enforces them, so a local run
 * fails where production would: a domain function that has not answered after its timeout is
 * ended by Lambda, and the synchronous invoke returns a FunctionError of type Sandbox.Timedout.
 * In-process the handler cannot be stopped: its answer is dropped and the caller gets the same
 * error (writes it makes afterwards still land, which in AWS they would not).
 */
import { GraphQLError } from 'graphql';

/** The domain functions' timeout (cdk/lib/handlers.ts): inside API Gateway's 30 s with the gateway's own time. */
export const DOMAIN_TIMEOUT_SECONDS = 25;
/** What Lambda reports for a function that ran out of time. */
export const TIMEOUT_ERROR_TYPE = 'Sandbox.Timedout';

export class DomainTimeoutError extends GraphQLError {
  constructor(
    readonly domain: string,
    readonly seconds: number,
  ) {
    super(`${domain} function: Task timed out after ${seconds.toFixed(2)} seconds`, { extensions: { code: 'FUNCTION_TIMEOUT', timeoutSeconds: seconds } });
    this.name = 'DomainTimeoutError';
  }
}

/** `work`, or DomainTimeoutError once `seconds` have passed without an answer. */
export async function withinTimeout<T>(domain: string, seconds: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DomainTimeoutError(domain, seconds)), seconds * 1000);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
