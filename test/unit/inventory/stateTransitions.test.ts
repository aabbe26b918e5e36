import { ALLOWED_TRANSITIONS, assertTransition, isAllowedTransition } from '../../../functions/inventory/stateTransitions.js';
import { STATES, type State } from '../../../functions/inventory/enums.js';

/**
 * The expected table written out independently of the module: row = from, the states each may
 * go to without force. Every one of the 64 pairs is checked against it.
 */
const EXPECTED: Record<State, State[]> = {
  UNKNOWN: ['UNKNOWN', 'EMPTY', 'POPULATED', 'OFF', 'ON', 'STANDBY', 'HALT', 'READY'],
  EMPTY: ['EMPTY', 'POPULATED', 'UNKNOWN'],
  POPULATED: ['POPULATED', 'OFF', 'ON', 'EMPTY', 'UNKNOWN'],
  OFF: ['OFF', 'ON', 'EMPTY', 'POPULATED', 'UNKNOWN', 'STANDBY'],
  ON: ['ON', 'READY', 'OFF', 'STANDBY', 'HALT', 'UNKNOWN'],
  READY: ['READY', 'ON', 'OFF', 'STANDBY', 'HALT', 'UNKNOWN'],
  STANDBY: ['STANDBY', 'ON', 'OFF', 'READY', 'UNKNOWN'],
  HALT: ['HALT', 'OFF', 'ON', 'UNKNOWN'],
};

const pairs = STATES.flatMap((from) => STATES.map((to) => [from, to, EXPECTED[from].includes(to)] as const));

describe('HSM state transitions', () => {
  it('covers every state as a source', () => {
    expect(Object.keys(ALLOWED_TRANSITIONS).sort()).toEqual([...STATES].sort());
  });

  it.each(pairs)('%s -> %s allowed: %s', (from, to, allowed) => {
    expect(isAllowedTransition(from, to)).toBe(allowed);
    if (allowed) {
      expect(() => assertTransition('x1c0s0b0n0', from, to, false)).not.toThrow();
    } else {
      expect(() => assertTransition('x1c0s0b0n0', from, to, false)).toThrow(expect.objectContaining({ code: 'CONFLICT', field: 'state', message: expect.stringContaining(`from ${from} to ${to}`) }));
    }
    // force overrides every refusal.
    expect(() => assertTransition('x1c0s0b0n0', from, to, true)).not.toThrow();
  });

  it('refuses the classic skip: an empty slot cannot become READY', () => {
    expect(isAllowedTransition('EMPTY', 'READY')).toBe(false);
    expect(isAllowedTransition('EMPTY', 'POPULATED') && isAllowedTransition('POPULATED', 'ON') && isAllowedTransition('ON', 'READY')).toBe(true);
  });
});
