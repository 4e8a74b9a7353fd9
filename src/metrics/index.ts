/** What the proxy counts and measures: Prometheus metrics and recent request stats for people. */
export { ProxyMetrics } from './prometheus.ts';
export type { RouteRequestStats } from './request-stats.ts';
