/**
 * How the gateway reaches a domain: in AWS a Lambda invoke, locally and in tests the same
 * handler in-process. Both carry the same DomainEvent, so the in-process path exercises the
 * logic the Lambda path runs.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import type { DomainEvent, DomainHandler, DomainResult } from '../functions/shared/handler.js';
import type { DomainRegistration } from './domains.js';

export interface Invoker {
  invoke(event: DomainEvent): Promise<DomainResult>;
  /** How many invokes were made; benchmarks and the batching test read it. */
  readonly count: number;
}

export function inProcessInvoker(domains: DomainRegistration[]): Invoker {
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
      // A structured clone mirrors the JSON boundary of a real invoke: no shared objects.
      return structuredClone(await (await handler)(structuredClone(event)));
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
      const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: new TextEncoder().encode(JSON.stringify(event)) }));
      const text = new TextDecoder().decode(out.Payload);
      if (out.FunctionError) throw new Error(`${event.domain} function failed: ${text.slice(0, 500)}`);
      return JSON.parse(text) as DomainResult;
    },
  };
}
