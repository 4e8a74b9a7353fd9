/**
 * Fixed-window request counting. Two sources of limits: one a test sets (per client_id, across
 * every API, as before), or HPE's published per-API limits (per client, per subject on IAM paths),
 * which apply only when enabled. A test-set limit wins over the published ones.
 */
import type { ApiRouteInfo } from './resources/index.ts';
import type { RateLimit } from './types.ts';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

export interface RateSubject {
  clientId: string;
  /** The token's `sub`: IAM limits are per subject principal. */
  sub: string;
}

interface Window {
  startedAt: number;
  count: number;
}

export class FixedWindowRateLimiter {
  #override: RateLimit | undefined;
  #published: boolean;
  #startPublished: boolean;
  #windows = new Map<string, Window>();

  constructor(published: boolean) {
    this.#published = published;
    this.#startPublished = published;
  }

  set(limit: RateLimit | undefined): void {
    this.#override = limit;
    this.#windows.clear();
  }

  setPublished(enabled: boolean): void {
    this.#published = enabled;
    this.#windows.clear();
  }

  reset(): void {
    this.set(undefined);
    this.#published = this.#startPublished;
  }

  /** Counts one request; undefined when no limit applies to it. */
  count(subject: RateSubject, api: ApiRouteInfo | undefined, now = Date.now()): RateDecision | undefined {
    if (this.#override !== undefined) return this.#countIn(`client:${subject.clientId}`, this.#override, now);
    if (!this.#published || api?.limit === undefined) return undefined;
    const who = api.headers === 'iam' ? `sub:${subject.sub}` : `client:${subject.clientId}`;
    return this.#countIn(`${who} ${api.budget}`, api.limit, now);
  }

  #countIn(key: string, limit: RateLimit, now: number): RateDecision {
    const windowMs = limit.windowSeconds * 1000;
    let window = this.#windows.get(key);
    if (window === undefined || now >= window.startedAt + windowMs) {
      window = { startedAt: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count += 1;
    return {
      allowed: window.count <= limit.limit,
      limit: limit.limit,
      remaining: Math.max(0, limit.limit - window.count),
      resetSeconds: Math.max(1, Math.ceil((window.startedAt + windowMs - now) / 1000)),
    };
  }
}
