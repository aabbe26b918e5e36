/** The hidden `skyboot-agent` command that is the DHCP server process (dhcpProcess.ts); alone here so the CLI can register it without loading the server. */
export const DHCP_SERVE_COMMAND = 'dhcp-serve';
