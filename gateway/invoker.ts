/**
 * How the gateway reaches a domain: in AWS a Lambda invoke, locally and in tests the same
 * handler in-process. Both carry the same DomainEvent, so the in-process path exercises the
 * logic the Lambda path runs.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DomainEvent, DomainHandler, DomainResult } from '../functions/shared/handler.js';
import type { DomainRegistration } from './domains.js';
import { DOMAIN_TIMEOUT_SECONDS, DomainTimeoutError, TIMEOUT_ERROR_TYPE, withinTimeout } from './timeLimits.js';
import { assertRequestFits, assertResponseFits, bytesFromResponseTooLarge, PayloadTooLargeError, RESPONSE_TOO_LARGE_TYPE } from './payloadLimits.js';

export interface Invoker {
  invoke(event: DomainEvent): Promise<DomainResult>;
  /** How many invokes were made; benchmarks and the batching test read it. */
  readonly count: number;
}

export function inProcessInvoker(domains: DomainRegistration[], timeoutSeconds = DOMAIN_TIMEOUT_SECONDS): Invoker {
  const loaded = new Map<string, Promise<DomainHandler>>();
  let count = 0;
  return {
    get count() {
      return count;
    },
    async invoke(event) {
      const reg = domains.find((d) => d.manifest.domain === event.domain);
      if (!reg) throw new Error(`no domain ${event.domain}`);
      let handler = loaded.get(event.domain);
      if (!handler) {
        handler = reg.load();
        loaded.set(event.domain, handler);
      }
      count += 1;
      // The JSON round trip is the boundary of a real invoke: no shared objects, and the
      // same payload limits Lambda applies to the serialized request and response.
      const request = JSON.stringify(event);
      assertRequestFits(event.domain, request);
      const response = JSON.stringify(await withinTimeout(event.domain, timeoutSeconds, handler.then((h) => h(JSON.parse(request) as DomainEvent))));
      assertResponseFits(event.domain, response);
      return JSON.parse(response) as DomainResult;
    },
  };
}

/** Function names come from SKYBOOT_FUNCTION_<DOMAIN> (set by the CDK stack). */
export function lambdaInvoker(client = new LambdaClient({}), env: NodeJS.ProcessEnv = process.env): Invoker {
  let count = 0;
  return {
    get count() {
      return count;
    },
    async invoke(event) {
      const name = env[`SKYBOOT_FUNCTION_${event.domain.toUpperCase()}`];
      if (!name) throw new Error(`SKYBOOT_FUNCTION_${event.domain.toUpperCase()} is not set`);
      count += 1;
      const payload = new TextEncoder().encode(JSON.stringify(event));
      let out;
      try {
        out = await client.send(new InvokeCommand({ FunctionName: name, Payload: payload }));
      } catch (err) {
        if ((err as { name?: string }).name === 'RequestEntityTooLargeException') throw new PayloadTooLargeError(event.domain, 'request', payload.byteLength);
        throw err;
      }
      const text = new TextDecoder().decode(out.Payload);
      if (out.FunctionError) {
        const failure = parseFunctionError(text);
        if (failure?.errorType === TIMEOUT_ERROR_TYPE) throw new DomainTimeoutError(event.domain, DOMAIN_TIMEOUT_SECONDS);
        if (failure?.errorType === RESPONSE_TOO_LARGE_TYPE) throw new PayloadTooLargeError(event.domain, 'response', bytesFromResponseTooLarge(failure.errorMessage ?? ''));
        throw new Error(`${event.domain} function failed: ${text.slice(0, 500)}`);
      }
      return JSON.parse(text) as DomainResult;
    },
  };
}

function parseFunctionError(text: string): { errorType?: string; errorMessage?: string } | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === 'object' ? (v as { errorType?: string; errorMessage?: string }) : undefined;
  } catch {
    return undefined;
  }
}
