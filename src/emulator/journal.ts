/**
 * What the emulator was asked: token and API requests, oldest first, the last `limit` of each
 * kept (a soak must not grow without bound), plus counts over the emulator's whole life.
 */
import type { ApiRequestRecord, JournalCounts, TokenRequestRecord } from './types.ts';

export const DEFAULT_JOURNAL_LIMIT = 10_000;
/** Distinct `METHOD path` keys counted; beyond it, further paths count under OTHER_PATHS. */
const MAX_COUNTED_PATHS = 10_000;
const OTHER_PATHS = '(other paths)';

export interface RedactedJournal {
  tokenRequests: TokenRequestRecord[];
  apiRequests: ApiRequestRecord[];
}

export class Journal {
  readonly tokenRequests: TokenRequestRecord[] = [];
  readonly apiRequests: ApiRequestRecord[] = [];
  readonly limit: number;
  #tokenCount = 0;
  #apiCount = 0;
  #byPath = new Map<string, number>();

  constructor(limit = DEFAULT_JOURNAL_LIMIT) {
    this.limit = limit;
  }

  addTokenRequest(record: TokenRequestRecord): void {
    this.#tokenCount += 1;
    this.#countPath(`POST ${record.path}`);
    keepLast(this.tokenRequests, record, this.limit);
  }

  addApiRequest(record: ApiRequestRecord): void {
    this.#apiCount += 1;
    this.#countPath(`${record.method} ${record.rawUrl.split('?')[0] ?? ''}`);
    keepLast(this.apiRequests, record, this.limit);
  }

  get tokenRequestCount(): number {
    return this.#tokenCount;
  }

  get apiRequestCount(): number {
    return this.#apiCount;
  }

  /** Requests to `path` (as received, without the query), with `method` or any. */
  countFor(path: string, method?: string): number {
    if (method !== undefined) return this.#byPath.get(`${method.toUpperCase()} ${path}`) ?? 0;
    let total = 0;
    for (const [key, count] of this.#byPath) if (key.slice(key.indexOf(' ') + 1) === path) total += count;
    return total;
  }

  counts(): JournalCounts {
    return { tokenRequests: this.#tokenCount, apiRequests: this.#apiCount, byPath: Object.fromEntries(this.#byPath) };
  }

  /** Empties the lists in place, so references handed out earlier see the reset too. */
  reset(): void {
    this.tokenRequests.length = 0;
    this.apiRequests.length = 0;
    this.#tokenCount = 0;
    this.#apiCount = 0;
    this.#byPath.clear();
  }

  /** For the HTTP control endpoint: bearer tokens must not leave the process. `last` bounds the answer. */
  redacted(last = this.limit): RedactedJournal {
    return {
      tokenRequests: this.tokenRequests.slice(-last).map((record) => ({ ...record })),
      apiRequests: this.apiRequests.slice(-last).map((record) => ({ ...record, headers: redactAuthorization(record.headers) })),
    };
  }

  #countPath(key: string): void {
    const counted = this.#byPath.has(key) || this.#byPath.size < MAX_COUNTED_PATHS ? key : OTHER_PATHS;
    this.#byPath.set(counted, (this.#byPath.get(counted) ?? 0) + 1);
  }
}

function keepLast<T>(list: T[], record: T, limit: number): void {
  list.push(record);
  if (list.length > limit) list.splice(0, list.length - limit);
}

function redactAuthorization(headers: ApiRequestRecord['headers']): ApiRequestRecord['headers'] {
  if (headers['authorization'] === undefined) return { ...headers };
  return { ...headers, authorization: '[redacted]' };
}
