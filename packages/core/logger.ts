import { Logger } from '@aws-lambda-powertools/logger';

/** One logger per container. Request bodies and headers are never logged: they carry secrets. */
export const logger = new Logger({ serviceName: 'agency-accounts' });
