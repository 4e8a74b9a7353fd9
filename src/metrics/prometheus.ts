import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BudgetKey, BudgetObserver } from '../budget/index.ts';
import type { RequestObserver, RequestOutcome } from '../proxy/index.ts';
import type { ForcedRefreshOutcome, TokenFetchOutcome, TokenObserver, TokenStatus } from '../tokens/index.ts';
import { PrecountedHistogram } from './precounted-histogram.ts';
import { RequestStats, type RouteRequestStats } from './request-stats.ts';

/** Distinct `api` label values (method and generalised path) on the rate-limit counters; later ones are "other". */
export const MAX_API_LABELS = 50;
/** A generalised path can still be long: label values are cut to this. */
const API_LABEL_CHARS = 120;

type BudgetLabel = 'client' | 'tenant' | 'api';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Prometheus metrics. Label values are bounded: route names and client names from the
 * configuration, method classes, status codes; never raw paths.
 */
export class ProxyMetrics implements TokenObserver, RequestObserver, BudgetObserver {
  readonly registry = new Registry();
  readonly #recent = new RequestStats();
  readonly #requests: Counter<'route' | 'method_class' | 'status'>;
  readonly #upstreamLatency: PrecountedHistogram;
  readonly #tokenFetches: Counter<'client' | 'region' | 'tenant' | 'outcome'>;
  readonly #tokenEndpointLatency: Histogram<'client'>;
  readonly #tokenRefusedUpstream: Counter<'client' | 'region' | 'tenant' | 'outcome'>;
  readonly #upstream429: Counter<'client'>;
  readonly #rateLimitHeld: Counter<BudgetLabel>;
  readonly #rateLimitRefused: Counter<BudgetLabel>;
  readonly #rateLimitRetried: Counter<BudgetLabel>;
  /** The `api` label values given out so far: at most MAX_API_LABELS. */
  readonly #apiLabels = new Set<string>();
  readonly #inflight: Gauge;
  /**
   * The hot per-request counts as plain numbers: prom-client hashes and validates a labels
   * object on every inc(); these are copied into #requests and #inflight at each scrape.
   */
  readonly #requestCounts = new Map<string, Map<number, { read: number; write: number }>>();
  #inflightNow = 0;
  #tokenStatuses: () => readonly TokenStatus[] = () => [];

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'greenlake_proxy_' });
    const requestCounts = this.#requestCounts;
    this.#requests = new Counter({
      name: 'greenlake_proxy_requests_total',
      help: 'Requests answered, by route, method class (read: GET/HEAD/OPTIONS, write: the rest) and status.',
      labelNames: ['route', 'method_class', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [route, byStatus] of requestCounts) {
          for (const [status, counts] of byStatus) {
            if (counts.read > 0) this.inc({ route, method_class: 'read', status }, counts.read);
            if (counts.write > 0) this.inc({ route, method_class: 'write', status }, counts.write);
          }
        }
      },
    });
    this.#upstreamLatency = new PrecountedHistogram(
      'greenlake_proxy_upstream_latency_seconds',
      'Time from sending a request upstream to its response headers, by route.',
      'route',
      LATENCY_BUCKETS,
      this.registry,
    );
    this.#tokenFetches = new Counter({
      name: 'greenlake_proxy_token_fetches_total',
      help: 'Calls to token endpoints, by client, region, tenant (MSP token exchange only) and outcome (ok; rejected: the endpoint refused, e.g. invalid_client; unavailable: unreachable, timed out, 5xx/429 or a malformed answer).',
      labelNames: ['client', 'region', 'tenant', 'outcome'],
      registers,
    });
    this.#tokenEndpointLatency = new Histogram({
      name: 'greenlake_proxy_token_endpoint_latency_seconds',
      help: 'Duration of calls to token endpoints, by client.',
      labelNames: ['client'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#tokenRefusedUpstream = new Counter({
      name: 'greenlake_proxy_token_refused_upstream_total',
      help: 'Upstream 401s to the cached token, by client, region, tenant (MSP mode only) and outcome (dropped: a forced refresh; kept: a 401 within 10 s of the last forced refresh, which is rate-limited).',
      labelNames: ['client', 'region', 'tenant', 'outcome'],
      registers,
    });
    this.#upstream429 = new Counter({
      name: 'greenlake_proxy_upstream_rate_limited_total',
      help: '429 answers seen from upstreams, by client (GreenLake limits per API client).',
      labelNames: ['client'],
      registers,
    });
    this.#rateLimitHeld = new Counter({
      name: 'greenlake_proxy_rate_limit_held_total',
      help: 'Requests held because the GreenLake rate-limit budget of their API was used up, by client, tenant (MSP mode) and api (method and generalised path; "other" past the first 50).',
      labelNames: ['client', 'tenant', 'api'],
      registers,
    });
    this.#rateLimitRefused = new Counter({
      name: 'greenlake_proxy_rate_limit_refused_total',
      help: 'Requests answered 429 by the proxy without calling GreenLake: the budget of their API reopened later than rateLimits.maxWaitMs, by client, tenant and api.',
      labelNames: ['client', 'tenant', 'api'],
      registers,
    });
    this.#rateLimitRetried = new Counter({
      name: 'greenlake_proxy_rate_limit_retried_total',
      help: 'Idempotent requests sent once more after an upstream 429 instead of passing it on, by client, tenant and api.',
      labelNames: ['client', 'tenant', 'api'],
      registers,
    });
    const inflightNow = (): number => this.#inflightNow;
    this.#inflight = new Gauge({
      name: 'greenlake_proxy_inflight_requests',
      help: 'Requests being served now.',
      registers,
      collect() {
        this.set(inflightNow());
      },
    });
    const statuses = (): readonly TokenStatus[] => this.#tokenStatuses();
    new Gauge({
      name: 'greenlake_proxy_token_expires_in_seconds',
      help: 'Seconds until the cached token of each client, region and tenant (MSP mode only) expires (absent before the first fetch).',
      labelNames: ['client', 'region', 'tenant'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const t of statuses()) {
          if (t.expiresAt === null) continue;
          const labels = { client: t.client, region: t.region, ...(t.tenant !== null && { tenant: t.tenant.name }) };
          this.set(labels, (Date.parse(t.expiresAt) - now) / 1000);
        }
      },
    });
  }

  /** greenlake_proxy_store_degraded, exported only when a shared store is configured. */
  watchStore(degraded: () => boolean): void {
    new Gauge({
      name: 'greenlake_proxy_store_degraded',
      help: '1 while the shared store (Redis) cannot be used and this replica works from its own memory and token fetches; else 0.',
      registers: [this.registry],
      collect() {
        this.set(degraded() ? 1 : 0);
      },
    });
  }

  /** Where the seconds-until-expiry gauge reads token state, at each scrape. */
  watchTokens(statuses: () => readonly TokenStatus[]): void {
    this.#tokenStatuses = statuses;
  }

  requestStarted(): void {
    this.#inflightNow++;
  }

  requestFinished(outcome: RequestOutcome): void {
    this.#inflightNow--;
    const route = outcome.route ?? 'none';
    let byStatus = this.#requestCounts.get(route);
    if (byStatus === undefined) this.#requestCounts.set(route, (byStatus = new Map()));
    let counts = byStatus.get(outcome.status);
    if (counts === undefined) byStatus.set(outcome.status, (counts = { read: 0, write: 0 }));
    counts[methodClass(outcome.method)]++;
    this.#recent.record(route, outcome.status);
  }

  /** Recent request counts per route, for the status page. */
  recentRequests(): RouteRequestStats[] {
    return this.#recent.snapshot();
  }

  upstreamAnswered(route: string, client: string, status: number, seconds: number): void {
    this.#upstreamLatency.observe(route, seconds);
    if (status === 429) this.#upstream429.inc({ client });
  }

  rateLimitHeld(key: BudgetKey): void {
    this.#rateLimitHeld.inc(this.#budgetLabels(key));
  }

  rateLimitRefused(key: BudgetKey): void {
    this.#rateLimitRefused.inc(this.#budgetLabels(key));
  }

  rateLimitRetried(key: BudgetKey): void {
    this.#rateLimitRetried.inc(this.#budgetLabels(key));
  }

  /** Bounded: client and tenant come from the configuration, api is capped at MAX_API_LABELS values. */
  #budgetLabels(key: BudgetKey): Partial<Record<BudgetLabel, string>> {
    let api = `${key.method} ${key.path}`;
    if (api.length > API_LABEL_CHARS) api = `${api.slice(0, API_LABEL_CHARS)}...`;
    if (!this.#apiLabels.has(api)) {
      if (this.#apiLabels.size >= MAX_API_LABELS) api = 'other';
      else this.#apiLabels.add(api);
    }
    return { client: key.client, api, ...(key.tenant !== undefined && { tenant: key.tenant }) };
  }

  tokenFetched(client: string, region: string, outcome: TokenFetchOutcome, seconds: number, tenant?: string): void {
    this.#tokenFetches.inc({ client, region, outcome, ...(tenant !== undefined && { tenant }) });
    this.#tokenEndpointLatency.observe({ client }, seconds);
  }

  tokenRefusedUpstream(client: string, region: string, outcome: ForcedRefreshOutcome, tenant?: string): void {
    this.#tokenRefusedUpstream.inc({ client, region, outcome, ...(tenant !== undefined && { tenant }) });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

function methodClass(method: string): 'read' | 'write' {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'read' : 'write';
}
