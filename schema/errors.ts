/**
 * The errors every layer raises. Their `code` is the GraphQL `extensions.code` the gateway
 * reports, so a domain Lambda, the agent and the gateway agree on one vocabulary.
 */
export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE' | 'INTERNAL_SERVER_ERROR';

export class SkybootError extends Error {
  readonly code: ErrorCode;
  readonly field: string | undefined;
  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.field = field;
  }
}

/** Bad input: the message always names the field and the reason. */
export class BadUserInputError extends SkybootError {
  constructor(field: string, reason: string) {
    super('BAD_USER_INPUT', `${field}: ${reason}`, field);
  }
}

export class NotFoundError extends SkybootError {
  constructor(what: string, id: string, field?: string) {
    super('NOT_FOUND', `${what} ${id} not found`, field);
  }
}

export class ConflictError extends SkybootError {
  constructor(message: string, field?: string) {
    super('CONFLICT', message, field);
  }
}

export class ForbiddenError extends SkybootError {
  constructor(message: string) {
    super('FORBIDDEN', message);
  }
}

/** Not ready yet, through no fault of the request (a site snapshot still being built): ask again later. */
export class UnavailableError extends SkybootError {
  constructor(message: string) {
    super('UNAVAILABLE', message);
  }
}

export class UnauthenticatedError extends SkybootError {
  constructor(message: string) {
    super('UNAUTHENTICATED', message);
  }
}

/** A serialisable form, used across the Lambda boundary. */
export interface ErrorShape {
  code: ErrorCode;
  message: string;
  field?: string;
}

export function toErrorShape(err: unknown): ErrorShape {
  if (err instanceof SkybootError) {
    return err.field ? { code: err.code, message: err.message, field: err.field } : { code: err.code, message: err.message };
  }
  return { code: 'INTERNAL_SERVER_ERROR', message: err instanceof Error ? err.message : String(err) };
}

export function fromErrorShape(shape: ErrorShape): SkybootError {
  return new SkybootError(shape.code, shape.message, shape.field);
}
