import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Credentials must never reach a log line. Nothing logs headers or bodies, and these
 * paths are redacted as a second line of defence.
 */
const REDACTED_PATHS = [
  // Exact paths only: wildcard paths cost about a tenth of the proxy's CPU at full load.
  'authorization',
  'cookie',
  'clientSecret',
  'client_secret',
  'access_token',
  'token',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
