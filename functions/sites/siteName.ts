import { BadUserInputError } from '../../schema/errors.js';

/** Site names end up in OAuth scopes, iSCSI IQNs and DNS labels, so they are DNS-label safe. */
export function validateSiteName(name: string, field = 'name'): string {
  if (typeof name !== 'string' || !/^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/.test(name)) {
    throw new BadUserInputError(field, `"${name}" is not a site name: use 1-32 lower-case letters, digits and '-', starting with a letter`);
  }
  return name;
}
