/**
 * Reading GreenLake's rate-limit headers: `ratelimit-limit/remaining/reset` (IETF draft, reset
 * in seconds), `X-RateLimit-Limit/Remaining/Reset` (reset in seconds, or an epoch timestamp)
 * and `Retry-After` (seconds or an HTTP date). Nothing here throws: a garbled value is absent.
 */

export type HeaderValue = string | readonly string[] | undefined;
export type UpstreamHeaders = Readonly<Record<string, HeaderValue>>;

/** Above this a reset is an epoch timestamp in seconds (10^9 s is 31 years: never a delay). */
const EPOCH_SECONDS_FROM = 1e9;
/** Above this, an epoch timestamp in milliseconds. */
const EPOCH_MILLISECONDS_FROM = 1e12;
/**
 * The furthest ahead any time read from an upstream may lie (Retry-After, resets, epoch resets).
 * A garbled or hostile value (`Retry-After: 99999999999`, a reset years ahead) must neither overflow
 * a timer (Node's limit is 2^31-1 ms, about 24.8 days) nor make a Date that cannot be printed.
 */
export const MAX_AHEAD_MS = 60 * 60 * 1000;
/** `100`, `100, 100;w=60` (draft-03 lists the policy after the number), ` 7 `. */
const LEADING_NUMBER = /^\s*(\d+(?:\.\d+)?)/;

/** What one upstream answer said about its client's budget. Times are epoch milliseconds. */
export interface RateLimitReading {
  readonly limit: number | undefined;
  readonly remaining: number | undefined;
  /** When the window resets, from `ratelimit-reset` or `X-RateLimit-Reset`. */
  readonly resetAt: number | undefined;
  /** When to come back, from `Retry-After`. */
  readonly retryAt: number | undefined;
}

const NAMES = {
  limit: ['ratelimit-limit', 'x-ratelimit-limit'],
  remaining: ['ratelimit-remaining', 'x-ratelimit-remaining'],
  reset: ['ratelimit-reset', 'x-ratelimit-reset'],
} as const;

/** `ratelimit-<name>`, else `x-ratelimit-<name>` (undici's keys are lower case); no string is built per call. */
export function rateLimitHeader(headers: UpstreamHeaders, name: keyof typeof NAMES): string | undefined {
  const [ietf, x] = NAMES[name];
  return first(headers[ietf]) ?? first(headers[x]);
}

export function readRateLimit(headers: UpstreamHeaders, now: number): RateLimitReading {
  return {
    limit: parseCount(rateLimitHeader(headers, 'limit')),
    remaining: parseCount(rateLimitHeader(headers, 'remaining')),
    resetAt: parseReset(rateLimitHeader(headers, 'reset'), now),
    retryAt: parseRetryAfter(first(headers['retry-after']), now),
  };
}

/** A non-negative count; fractions are cut (a budget of 2.5 requests is 2). */
export function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = LEADING_NUMBER.exec(text);
  return match === null ? undefined : Math.floor(Number(match[1]));
}

/** Seconds until the reset, or an epoch timestamp (seconds, or milliseconds) of it. */
export function parseReset(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const match = LEADING_NUMBER.exec(text);
  if (match === null) return undefined;
  const value = Number(match[1]);
  if (value > EPOCH_MILLISECONDS_FROM) return notBeyond(value, now);
  if (value > EPOCH_SECONDS_FROM) return notBeyond(value * 1000, now);
  return notBeyond(now + value * 1000, now);
}

/** `Retry-After: 7` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT`. */
export function parseRetryAfter(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return notBeyond(now + Number(trimmed) * 1000, now);
  // Only a date with letters in it: Date.parse would read "12abc" or "-5" as something.
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : notBeyond(date, now);
}

/** At most MAX_AHEAD_MS from now; 400 digits of seconds are Infinity, which is clamped too. */
function notBeyond(at: number, now: number): number {
  return at > now + MAX_AHEAD_MS ? now + MAX_AHEAD_MS : at;
}

function first(value: HeaderValue): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}
