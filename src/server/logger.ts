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
];

/** The levels LOG_LEVEL accepts: pino's own, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** json: one JSON object per line (collectors, containers); pretty: one readable line (a terminal). */
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  readonly format?: LogFormat;
  /** pretty only: colour the level (a terminal without NO_COLOR). */
  readonly color?: boolean;
}

export function createLogger(level: string, destination?: DestinationStream, options: LoggerOptions = {}): Logger {
  const sink = destination ?? logDestination(1);
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.format === 'pretty' ? prettyStream(sink, options.color ?? false) : sink,
  );
}

/**
 * fd 1 or 2, with logging stopped (not the process) when it can no longer be written. A closed
 * terminal answers EIO: pino rethrows it, and its exit handler then retries the write forever,
 * so a proxy whose terminal went away hung, deaf to SIGTERM.
 */
export function logDestination(fd: number, sync = false): DestinationStream {
  const stream = pino.destination({ fd, sync });
  stream.on('error', () => {
    const dead = stream as unknown as Record<'write' | 'flush' | 'flushSync' | 'end', () => void>;
    for (const method of ['write', 'flush', 'flushSync', 'end'] as const) dead[method] = () => {};
  });
  return stream;
}

/**
 * Pretty lines are made from pino's finished JSON line, so they carry exactly what the JSON
 * form carries, redaction included. Only for people at a terminal: it parses every line.
 */
function prettyStream(sink: DestinationStream, color: boolean): DestinationStream & { flush(): void } {
  return {
    write: (line: string) => void sink.write(prettyLine(line, color)),
    flush: () => (sink as { flush?: () => void }).flush?.(),
  };
}

const LEVEL_COLORS: Readonly<Record<string, string>> = { fatal: '35', error: '31', warn: '33', info: '32', debug: '36', trace: '90' };
/** Fields the line's layout already shows, or that say nothing at a terminal. */
const SHOWN_APART = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** `12:00:01.234 INFO  greenlake-proxy listening url=http://127.0.0.1:8080 routes=12` */
export function prettyLine(json: string, color = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const level = String(entry['level'] ?? '');
  const time = typeof entry['time'] === 'string' ? entry['time'].slice(11, 23) : '';
  const label = level.toUpperCase().padEnd(5);
  const shown = color && LEVEL_COLORS[level] !== undefined ? `\x1b[${LEVEL_COLORS[level]}m${label}\x1b[0m` : label;
  const fields = Object.entries(entry)
    .filter(([key]) => !SHOWN_APART.has(key))
    .map(([key, value]) => `${key}=${fieldText(value)}`);
  return `${[time, shown, String(entry['msg'] ?? ''), ...fields].filter((part) => part !== '').join(' ')}\n`;
}

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}
