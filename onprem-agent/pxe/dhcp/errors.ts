import { BadUserInputError } from '../../../schema/errors.js';

/**
 * The only error the DHCP codec throws. Anything on the wire can be hostile, so decode
 * reports every malformation through this type and callers can drop the packet by class.
 */
export class DhcpPacketError extends BadUserInputError {
  constructor(field: string, reason: string) {
    super(`dhcp.${field}`, reason);
  }
}
