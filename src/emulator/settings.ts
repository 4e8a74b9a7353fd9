/** Checks fault and limit settings, whether from the JS API or from JSON over HTTP. */
import type { ApiFault, AsyncFault, RateLimit, TokenFault } from './types.ts';

export class SettingsError extends Error {}

/** The body of POST /_emulator/faults: null clears, absent leaves unchanged. */
export interface SettingsUpdate {
  token?: TokenFault | null;
  api?: ApiFault | null;
  rateLimit?: RateLimit | null;
  async?: AsyncFault | null;
  publishedRateLimits?: boolean;
  retryAfterOn429?: boolean;
  tokenLifetimeSeconds?: number;
}

type Fields = Record<string, unknown>;

export function checkSettingsUpdate(value: unknown): SettingsUpdate {
  const fields = record(value, 'settings');
  const update: SettingsUpdate = {};
  if (fields['token'] !== undefined) update.token = fields['token'] === null ? null : checkTokenFault(fields['token']);
  if (fields['api'] !== undefined) update.api = fields['api'] === null ? null : checkApiFault(fields['api']);
  if (fields['rateLimit'] !== undefined) {
    update.rateLimit = fields['rateLimit'] === null ? null : checkRateLimit(fields['rateLimit']);
  }
  if (fields['async'] !== undefined) update.async = fields['async'] === null ? null : checkAsyncFault(fields['async']);
  for (const name of ['publishedRateLimits', 'retryAfterOn429'] as const) {
    const value = fields[name];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') throw new SettingsError(`${name} must be true or false`);
    update[name] = value;
  }
  if (fields['tokenLifetimeSeconds'] !== undefined) {
    update.tokenLifetimeSeconds = checkTokenLifetime(fields['tokenLifetimeSeconds']);
  }
  return update;
}

export function checkTokenFault(value: unknown): TokenFault {
  const fields = record(value, 'token fault');
  const times = optionalCount(fields, 'times');
  switch (fields['kind']) {
    case 'status':
      return withTimes({
        kind: 'status',
        status: httpStatus(fields['status']),
        ...optional('body', optionalString(fields, 'body')),
        ...optional('retryAfterSeconds', optionalCount(fields, 'retryAfterSeconds')),
      }, times);
    case 'malformed':
    case 'no-expires-in':
    case 'hang':
      return withTimes({ kind: fields['kind'] }, times);
    case 'exp-differs':
      return withTimes({ kind: 'exp-differs', expSeconds: count(fields['expSeconds'], 'expSeconds') }, times);
    case 'delay':
      return withTimes({ kind: 'delay', ms: count(fields['ms'], 'ms') }, times);
    default:
      throw new SettingsError('token fault kind must be status, malformed, no-expires-in, exp-differs, delay or hang');
  }
}

export function checkApiFault(value: unknown): ApiFault {
  const fields = record(value, 'api fault');
  switch (fields['kind']) {
    case 'delay':
      return { kind: 'delay', ms: count(fields['ms'], 'ms') };
    case 'status':
      return withTimes(
        { kind: 'status', status: httpStatus(fields['status']), ...optional('retryAfterSeconds', optionalCount(fields, 'retryAfterSeconds')) },
        optionalCount(fields, 'times'),
      );
    default:
      throw new SettingsError('api fault kind must be delay or status');
  }
}

export function checkAsyncFault(value: unknown): AsyncFault {
  const fields = record(value, 'async fault');
  if (fields['kind'] !== 'fail') throw new SettingsError('async fault kind must be fail');
  return withTimes({ kind: 'fail' }, optionalCount(fields, 'times'));
}

export function checkRateLimit(value: unknown): RateLimit {
  const fields = record(value, 'rate limit');
  const limit = count(fields['limit'], 'limit');
  const windowSeconds = fields['windowSeconds'];
  if (typeof windowSeconds !== 'number' || !(windowSeconds > 0)) throw new SettingsError('windowSeconds must be a positive number');
  return { limit, windowSeconds };
}

export function checkTokenLifetime(value: unknown): number {
  const seconds = count(value, 'tokenLifetimeSeconds');
  if (seconds < 1) throw new SettingsError('tokenLifetimeSeconds must be at least 1');
  return seconds;
}

function record(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SettingsError(`${what} must be an object`);
  return value as Fields;
}

function count(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SettingsError(`${name} must be a non-negative integer`);
  }
  return value;
}

function optionalCount(fields: Fields, name: string): number | undefined {
  return fields[name] === undefined ? undefined : count(fields[name], name);
}

function optionalString(fields: Fields, name: string): string | undefined {
  const value = fields[name];
  if (value !== undefined && typeof value !== 'string') throw new SettingsError(`${name} must be a string`);
  return value;
}

function httpStatus(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 200 || value > 599) {
    throw new SettingsError('status must be an HTTP status from 200 to 599');
  }
  return value;
}

/** Spreads to nothing when the value is undefined, so absent options stay absent. */
function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

function withTimes<F extends object>(fault: F, times: number | undefined): F {
  return times === undefined ? fault : { ...fault, times };
}
