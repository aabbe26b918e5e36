import { GraphQLError } from 'graphql';
import { formatErrorFor } from '../../../gateway/plugins/formatError.js';
import { BadUserInputError, ConflictError } from '../../../schema/errors.js';

describe('formatErrorFor', () => {
  const internal = new GraphQLError('connect ECONNREFUSED 127.0.0.1:8000', { originalError: new Error('connect ECONNREFUSED 127.0.0.1:8000') });
  const formattedInternal = { message: internal.message, path: ['components'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['Error: x', '    at f (a.ts:1:1)'] } };

  it.each([
    ['production masks an unexpected error', true, { message: 'Internal server error', path: ['components'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    ['development shows it whole', false, formattedInternal],
  ])('%s', (_name, production, expected) => {
    expect(formatErrorFor(production)(formattedInternal, internal)).toEqual(expected);
  });

  it.each([
    [new BadUserInputError('input.xname', '"x1c" is not an xname'), 'BAD_USER_INPUT', 'input.xname'],
    [new ConflictError('MAC aa:bb:cc:dd:ee:ff belongs to x1c0s0b0n1', 'mac'), 'CONFLICT', 'mac'],
  ])('keeps a coded error %# with its field and no stack, in production', (cause, code, field) => {
    const err = new GraphQLError(cause.message, { originalError: cause });
    const out = formatErrorFor(true)({ message: cause.message, extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['x'] } }, err);
    expect(out).toEqual({ message: cause.message, extensions: { code, field } });
  });
});
