/** The hidden `skyboot-agent` command that is the TFTP server process (tftpProcess.ts); alone here so the CLI can register it without loading the server. */
export const TFTP_SERVE_COMMAND = 'tftp-serve';
