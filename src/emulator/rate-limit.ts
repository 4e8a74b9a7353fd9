/** Fixed-window request counting per API client, like GreenLake's per-client limits. */
import type { RateLimit } from './types.ts';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends. */
  resetSeconds: number;
}

interface Window {
  startedAt: number;
  count: number;
}

export class FixedWindowRateLimiter {
  #limit: RateLimit | undefined;
  #windows = new Map<string, Window>();

  set(limit: RateLimit | undefined): void {
    this.#limit = limit;
    this.#windows.clear();
  }

  /** Counts one request; undefined when no limit is set. */
  count(clientId: string, now = Date.now()): RateDecision | undefined {
    const limit = this.#limit;
    if (limit === undefined) return undefined;
    const windowMs = limit.windowSeconds * 1000;
    let window = this.#windows.get(clientId);
    if (window === undefined || now >= window.startedAt + windowMs) {
      window = { startedAt: now, count: 0 };
      this.#windows.set(clientId, window);
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
