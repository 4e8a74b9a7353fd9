/** Messages between the benchmark and its load-generator process. */

export interface LoadRequest {
  /**
   * autocannon (default), or paced: an undici Pool of `connections` sending one request
   * every 1/overallRate s, evenly spaced, latency counted from the planned send time.
   */
  readonly mode?: 'autocannon' | 'paced';
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  /** Requests per second across all connections (autocannon's overallRate); unset: as fast as possible. */
  readonly overallRate?: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Record<string, string>;
  /** Request body (autocannon mode), sent with every request. */
  readonly body?: string;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
  readonly samples: number;
}

export interface LoadResult {
  readonly durationSec: number;
  readonly requests2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** 2xx responses per second. */
  readonly rps: number;
  /** Of 2xx responses, in milliseconds, exact (from every response's own timing). */
  readonly latencyMs: LatencySummary;
  /** autocannon's own histogram: whole milliseconds only (NaN, null in JSON, when paced). */
  readonly autocannonLatencyMs: { readonly p50: number; readonly p99: number };
  /** CPU time the load generator itself used during the run. */
  readonly loadgenCpuSec: number;
}

export interface LoadMessage {
  readonly id: number;
  readonly request: LoadRequest;
}

export type LoadReply =
  | { readonly ready: true }
  | { readonly id: number; readonly result: LoadResult }
  | { readonly id: number; readonly error: string };
