/**
 * What a client sees of an error: our coded errors as they are (their messages name the
 * field and the reason), scalar failures during validation as BAD_USER_INPUT, and anything
 * unexpected masked outside development, with the request id to find it in the logs.
 */
import type { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { SkybootError } from '../../schema/errors.js';

const PASS_THROUGH = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT', 'GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE', 'PAYLOAD_TOO_LARGE', 'FUNCTION_TIMEOUT', 'UNAVAILABLE']);

/**
 * graphql-armor's limits report as "Syntax Error: … limit of N exceeded, found M." although the
 * query parses: restated as the limit, the value and what to change.
 */
const ARMOR_LIMITS: [RegExp, (n: string, found: string) => string][] = [
  [/^Syntax Error: Query depth limit of (\d+) exceeded, found (\d+)\.$/, (n, f) => `query depth ${f} exceeds the limit of ${n}: nest fewer selections, or ask for the nested objects in a second query`],
  [/^Syntax Error: Aliases limit of (\d+) exceeded, found (\d+)\.$/, (n, f) => `query has ${f} aliases, over the limit of ${n}: send fewer aliased fields per request`],
  [/^Syntax Error: Directives limit of (\d+) exceeded, found (\d+)\.$/, (n, f) => `query has ${f} directives, over the limit of ${n}`],
  [/^Syntax Error: Token limit of (\d+) exceeded\.$/, (n) => `query has more than ${n} tokens, the limit: send a shorter document (values as variables, fewer aliased fields)`],
];

export function restateArmorLimit(message: string): string {
  for (const [re, say] of ARMOR_LIMITS) {
    const m = re.exec(message);
    if (m) return say(m[1]!, m[2] ?? '');
  }
  return message;
}

function rootCause(error: unknown): unknown {
  let e = unwrapResolverError(error);
  for (let i = 0; i < 5 && e && typeof e === 'object' && 'originalError' in e && (e as { originalError?: unknown }).originalError; i++) {
    e = (e as { originalError: unknown }).originalError;
  }
  return e;
}

export function formatErrorFor(production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const cause = rootCause(error);
    if (cause instanceof SkybootError) {
      const message = formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' || formatted.message !== cause.message ? `${formatted.message}` : cause.message;
      const { stacktrace: _s, ...rest } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...formatted, message, extensions: { ...rest, code: cause.code, ...(cause.field ? { field: cause.field } : {}) } };
    }
    const code = String(formatted.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
    if (PASS_THROUGH.has(code)) {
      // Expected errors carry no stack: their message already says what is wrong.
      const { stacktrace: _s, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...formatted, message: restateArmorLimit(formatted.message), extensions };
    }
    if (!production) return formatted;
    return { message: 'Internal server error', ...(formatted.path ? { path: formatted.path } : {}), extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
