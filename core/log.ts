/**
 * Structured logs (pino) with a process name. Secrets are never passed to a logger; the redaction list is
 * a second line of defence for field names that could carry one.
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level: string = process.env['LOG_LEVEL'] ?? 'info'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['secretKey', 'privateKey', 'share', 'idtoken', 'idToken', '*.secretKey', '*.privateKey', '*.share', '*.idtoken'], censor: '[redacted]' },
  });
}
