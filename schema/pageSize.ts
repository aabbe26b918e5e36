/** Page sizes of every connection (`first`): the domains enforce them, the gateway's cost estimate counts with them. */
export const DEFAULT_PAGE = 50;
export const MAX_PAGE = 1000;
