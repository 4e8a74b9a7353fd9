/** Recent request counts per route, for people (the status page); Prometheus has the rest. */
export interface RouteRequestStats {
  readonly route: string;
  readonly lastMinutes: { readonly minutes: number; readonly total: number; readonly errors: number };
  readonly sinceStart: { readonly total: number; readonly errors: number };
}

const WINDOW_MINUTES = 5;
const MINUTE_MS = 60_000;

interface Bucket {
  minute: number;
  total: number;
  errors: number;
}

/** Counts per route in one-minute buckets over the last few minutes, plus totals. */
export class RequestStats {
  readonly #routes = new Map<string, { buckets: Bucket[]; total: number; errors: number }>();

  /** An error is a 5xx answer, from the upstream or from the proxy itself. */
  record(route: string, status: number, now: number = Date.now()): void {
    const stats = this.#routes.get(route) ?? this.#add(route);
    const isError = status >= 500;
    const minute = Math.floor(now / MINUTE_MS);
    const bucket = stats.buckets[minute % WINDOW_MINUTES] as Bucket;
    if (bucket.minute !== minute) Object.assign(bucket, { minute, total: 0, errors: 0 });
    bucket.total++;
    stats.total++;
    if (isError) {
      bucket.errors++;
      stats.errors++;
    }
  }

  snapshot(now: number = Date.now()): RouteRequestStats[] {
    const oldest = Math.floor(now / MINUTE_MS) - WINDOW_MINUTES + 1;
    return [...this.#routes].map(([route, stats]) => {
      const recent = stats.buckets.filter((b) => b.minute >= oldest);
      return {
        route,
        lastMinutes: {
          minutes: WINDOW_MINUTES,
          total: recent.reduce((sum, b) => sum + b.total, 0),
          errors: recent.reduce((sum, b) => sum + b.errors, 0),
        },
        sinceStart: { total: stats.total, errors: stats.errors },
      };
    });
  }

  #add(route: string): { buckets: Bucket[]; total: number; errors: number } {
    const stats = {
      buckets: Array.from({ length: WINDOW_MINUTES }, () => ({ minute: -1, total: 0, errors: 0 })),
      total: 0,
      errors: 0,
    };
    this.#routes.set(route, stats);
    return stats;
  }
}
