/**
 * HSM's component state machine. SMD refuses a state change that skips the steps hardware
 * goes through (an EMPTY slot cannot become READY without first being POPULATED and powered);
 * `force` is for operators correcting a record and for observations (discovery).
 * Same-state writes are allowed so a repeated request is idempotent.
 */
import { ConflictError } from '../../schema/errors.js';
import type { State } from './enums.js';

export const ALLOWED_TRANSITIONS: Readonly<Record<State, readonly State[]>> = {
  UNKNOWN: ['UNKNOWN', 'EMPTY', 'POPULATED', 'OFF', 'ON', 'STANDBY', 'HALT', 'READY'],
  EMPTY: ['EMPTY', 'POPULATED', 'UNKNOWN'],
  POPULATED: ['POPULATED', 'OFF', 'ON', 'EMPTY', 'UNKNOWN'],
  OFF: ['OFF', 'ON', 'EMPTY', 'POPULATED', 'UNKNOWN', 'STANDBY'],
  ON: ['ON', 'READY', 'OFF', 'STANDBY', 'HALT', 'UNKNOWN'],
  READY: ['READY', 'ON', 'OFF', 'STANDBY', 'HALT', 'UNKNOWN'],
  STANDBY: ['STANDBY', 'ON', 'OFF', 'READY', 'UNKNOWN'],
  HALT: ['HALT', 'OFF', 'ON', 'UNKNOWN'],
};

export function isAllowedTransition(from: State, to: State): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

/** A refused transition is CONFLICT: the request is well-formed but the record's current state forbids it. */
export function assertTransition(xname: string, from: State, to: State, force: boolean): void {
  if (force || isAllowedTransition(from, to)) return;
  throw new ConflictError(
    `state: ${xname} cannot go from ${from} to ${to} (allowed from ${from}: ${ALLOWED_TRANSITIONS[from].join(', ')}); pass force: true to override`,
    'state',
  );
}
