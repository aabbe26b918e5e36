/** The agent's one pino logger: structured JSON to stderr, so stdout stays for command output. */
import { pino } from 'pino';

export const log = pino(
  { name: 'skyboot-agent', level: process.env.SKYBOOT_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'silent' : 'info') },
  pino.destination(2),
);
