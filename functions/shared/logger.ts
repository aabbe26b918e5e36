/** The shared Powertools logger: structured JSON, one instance per process. */
import { Logger } from '@aws-lambda-powertools/logger';

export const logger = new Logger({
  serviceName: 'skyboot',
  logLevel: (process.env.SKYBOOT_LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'SILENT' : 'INFO')) as 'INFO',
});
