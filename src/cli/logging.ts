import type { Logger } from 'pino';
import { createLogger, isLogLevel, LOG_LEVELS, logDestination } from '../server/index.ts';
import { UsageError, type CliOptions, type Env } from './command.ts';

/**
 * The logger of a command: LOG_LEVEL (else `fallback`), and --log-format, else readable lines
 * when the log goes to a terminal and JSON when it does not.
 */
export function commandLogger(options: Pick<CliOptions, 'logFormat'>, env: Env, fallback: string, to: 'stdout' | 'stderr' = 'stdout'): Logger {
  const level = logLevel(env, fallback);
  const stream = to === 'stdout' ? process.stdout : process.stderr;
  const format = options.logFormat ?? (stream.isTTY ? 'pretty' : 'json');
  const color = stream.isTTY && (env['NO_COLOR'] ?? '') === '' && env['TERM'] !== 'dumb';
  const destination = logDestination(to === 'stdout' ? 1 : 2, to === 'stderr');
  return createLogger(level, destination, { format, color });
}

/** LOG_LEVEL, refused unless pino knows it (pino would throw a stack trace). */
export function logLevel(env: Env, fallback: string): string {
  const level = env['LOG_LEVEL'] === undefined || env['LOG_LEVEL'] === '' ? fallback : env['LOG_LEVEL'];
  if (!isLogLevel(level)) throw new UsageError(`LOG_LEVEL: unknown level ${JSON.stringify(level)}; accepted: ${LOG_LEVELS.join(', ')}`);
  return level;
}
