/**
 * Lambda's timeout in the in-process invoker: a domain handler that has not answered after the
 * function's timeout fails the invoke with FUNCTION_TIMEOUT, as Lambda's Sandbox.Timedout does;
 * one that answers in time is unaffected.
 */
import { inProcessInvoker } from '../../../gateway/invoker.js';
import { DOMAIN_TIMEOUT_SECONDS, DomainTimeoutError } from '../../../gateway/timeLimits.js';
import { DOMAIN_HANDLERS } from '../../../cdk/lib/handlers.js';
import type { DomainRegistration } from '../../../gateway/domains.js';
import type { DomainEvent } from '../../../functions/shared/handler.js';

const slowFor = (ms: number): DomainRegistration => ({
  manifest: { domain: 'slow', scope: 'deployment', operations: {} },
  load: async () => async () => {
    await new Promise((r) => setTimeout(r, ms));
    return { results: [] };
  },
});
const event: DomainEvent = { domain: 'slow', identity: { subject: 't', roles: ['admin'], site: null }, requestId: 'r1', calls: [] };

describe('in-process invoker: Lambda timeout', () => {
  it('is the timeout the CDK gives every domain function', () => {
    for (const spec of Object.values(DOMAIN_HANDLERS)) expect(spec.timeoutSeconds).toBe(DOMAIN_TIMEOUT_SECONDS);
  });

  it.each([
    { name: 'answers in time', handlerMs: 10, timeoutSeconds: 0.5, timesOut: false },
    { name: 'runs past the timeout', handlerMs: 600, timeoutSeconds: 0.2, timesOut: true },
  ])('a handler that $name', async ({ handlerMs, timeoutSeconds, timesOut }) => {
    const invoker = inProcessInvoker([slowFor(handlerMs)], timeoutSeconds);
    const started = Date.now();
    const outcome = await invoker.invoke(event).then((r) => r, (e: unknown) => e);
    if (!timesOut) return expect(outcome).toEqual({ results: [] });
    expect(outcome).toBeInstanceOf(DomainTimeoutError);
    expect((outcome as DomainTimeoutError).message).toBe('slow function: Task timed out after 0.20 seconds');
    expect((outcome as DomainTimeoutError).extensions).toMatchObject({ code: 'FUNCTION_TIMEOUT', timeoutSeconds: 0.2 });
    expect(Date.now() - started).toBeLessThan(handlerMs);
  });
});
