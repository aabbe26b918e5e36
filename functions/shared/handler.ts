/**
 * The contract between the gateway and a domain Lambda. One event carries a batch of calls
 * (the gateway batches per request and domain), and the result carries one outcome per call,
 * so a failing item never fails its neighbours. The same handler runs in Lambda and in-process.
 */
import { randomUUID } from 'node:crypto';
import { toErrorShape, type ErrorShape } from '../../schema/errors.js';
import { assertAllowed, type Access, type Identity, type OperationScope } from './identity.js';
import { clients, type Clients } from './clients.js';
import { logger } from './logger.js';
import { StoredItemError } from './storedItem.js';

export interface DomainCall {
  operation: string;
  /** The GraphQL arguments, already parsed and normalised by the scalars. */
  args: Record<string, unknown>;
  /** For type-field resolvers: the parent object the field hangs off. */
  source?: Record<string, unknown>;
  /** The result fields the caller selected, for operations whose manifest asks (`selection: true`). */
  selection?: string[];
}

export interface DomainEvent {
  domain: string;
  identity: Identity;
  requestId: string;
  calls: DomainCall[];
}

export type CallResult = { ok: true; value: unknown } | { ok: false; error: ErrorShape };

export interface DomainResult {
  results: CallResult[];
}

export interface OperationContext {
  identity: Identity;
  requestId: string;
  clients: Clients;
  /** The running operation's access (from its manifest): what a site check asks of the caller at the site the call addresses. */
  access: Access;
  /** The call's selected result fields, when the operation's manifest asks for them. */
  selection?: readonly string[];
}

/**
 * A domain's public interface: its operations, who may call them, and the GraphQL field each
 * one resolves. Pure data, so the gateway imports it without the domain's code.
 */
export interface DomainManifest {
  domain: string;
  /**
   * `site`: every operation addresses one site (named, by default, or through the item it names)
   * and checks the caller's role there; `deployment`: the domain's items belong to no one site.
   */
  scope: OperationScope;
  /** `scope` overrides the domain's for one operation. `selection`: the gateway passes the selected result fields, so the operation can leave out costly ones. */
  operations: Record<string, { access: Access; field?: string; selection?: boolean; scope?: OperationScope }>;
}

// Operations declare their own argument types; the map erases them to one callable shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation<A = any> = (args: A, ctx: OperationContext, source?: Record<string, unknown>) => Promise<unknown>;

export type DomainHandler = (event: DomainEvent) => Promise<DomainResult>;

export function domainHandler<M extends DomainManifest>(manifest: M, operations: { [K in keyof M['operations']]: Operation }): DomainHandler {
  const domain = manifest.domain;
  return async (event) => {
    const base = { identity: event.identity, requestId: event.requestId ?? randomUUID(), clients: clients() };
    const shared = new Map<Access, OperationContext>();
    // Every log line of this invoke carries the gateway's request id (the correlation id).
    logger.appendKeys({ requestId: base.requestId, domain });
    logger.debug('invoke', { operations: event.calls.map((c) => c.operation), subject: event.identity.subject });
    const results = await Promise.all(
      event.calls.map(async (call): Promise<CallResult> => {
        const spec = manifest.operations[call.operation];
        const run = (operations as Record<string, Operation>)[call.operation];
        try {
          if (!spec || !run) throw new Error(`${domain} has no operation ${call.operation}`);
          assertAllowed(event.identity, spec.access, call.operation, spec.scope ?? manifest.scope);
          // One context per access level for the calls of this invoke, so per-event loaders
          // (keyed by context: hardware, boot resolution) batch across all of them.
          let ctx = call.selection ? undefined : shared.get(spec.access);
          if (!ctx) {
            ctx = { ...base, access: spec.access, ...(call.selection ? { selection: call.selection } : {}) };
            if (!call.selection) shared.set(spec.access, ctx);
          }
          return { ok: true, value: await run(call.args, ctx, call.source) };
        } catch (err) {
          const error = toErrorShape(err);
          if (error.code === 'INTERNAL_SERVER_ERROR') {
            // A malformed stored item logs its key, field, value and reason as fields, so an operator can find and repair it.
            const stored = err instanceof StoredItemError ? { storedItem: err.toLog() } : {};
            logger.error('operation failed', { domain, operation: call.operation, requestId: base.requestId, error: err as Error, ...stored });
          }
          return { ok: false, error };
        }
      }),
    );
    return { results };
  };
}
