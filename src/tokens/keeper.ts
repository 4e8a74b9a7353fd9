import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { ClientConfig, TenantConfig, TimeoutsConfig, TokensConfig } from '../config/index.ts';
import { TokenError } from './errors.ts';
import { outcomeOf, type TokenFetchOutcome, type TokenObserver } from './observer.ts';
import type { IssuedToken } from './request-token.ts';
import { clientCredentials, type TokenFetcher } from './sources.ts';

export type TokenState = 'empty' | 'fetching' | 'valid' | 'refreshing' | 'failing' | 'expired';

/** What may be shown of a token: never the token itself. */
export interface TokenStatus {
  readonly client: string;
  readonly region: string;
  /** The tenant workspace (MSP mode) whose token this is; null for the client's own token. */
  readonly tenant: TenantConfig | null;
  readonly state: TokenState;
  readonly expiresAt: string | null;
  readonly lastRefreshAt: string | null;
  readonly consecutiveFailures: number;
  readonly lastError: { readonly code: string; readonly message: string } | null;
  /** Calls made to the token endpoint by this keeper. */
  readonly fetches: number;
}

export interface KeeperDeps {
  readonly client: ClientConfig;
  readonly region: string;
  /** Set for a tenant token (MSP mode): for logs, status and metrics. */
  readonly tenant?: TenantConfig | undefined;
  /** How one token is got (sources.ts); default: client credentials at the client's tokenUrl. */
  readonly fetchToken?: TokenFetcher | undefined;
  readonly tokens: TokensConfig;
  readonly timeouts: TimeoutsConfig;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly observer?: TokenObserver | undefined;
  /** Told when the upstream refused the cached token and it was dropped (e.g. to drop a shared copy too). */
  readonly onInvalidate?: ((token: string) => void) | undefined;
}

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/** Share of a token's usable life after which it is refreshed in the background. */
const REFRESH_AT_SHARE = 0.8;
const MIN_REFRESH_DELAY_MS = 1000;

/**
 * The whole life of one (client, region) token, or (client, region, tenant): fetch, cache,
 * refresh ahead of expiry, back off on failure, drop once expired. One owner, one timer, one
 * in-flight fetch; everyone else just asks for the current token. How one token is got is
 * the `fetchToken` strategy's business (client credentials, token exchange); the rest is here.
 */
export class TokenKeeper {
  readonly #deps: KeeperDeps;
  readonly #fetchToken: TokenFetcher;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #token: CachedToken | undefined;
  #inflight: Promise<CachedToken> | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #failures = 0;
  #lastError: TokenError | undefined;
  #retryNotBefore = 0;
  #lastRefreshAt: number | undefined;
  #fetches = 0;

  constructor(deps: KeeperDeps) {
    this.#deps = deps;
    this.#fetchToken = deps.fetchToken ?? clientCredentials(deps);
    const tenant = deps.tenant === undefined ? {} : { tenant: deps.tenant.name };
    this.#log = deps.logger.child({ client: deps.client.name, region: deps.region, ...tenant });
  }

  get client(): string {
    return this.#deps.client.name;
  }

  get region(): string {
    return this.#deps.region;
  }

  /** Tenant name (MSP mode); undefined for the client's own token. */
  get tenant(): string | undefined {
    return this.#deps.tenant?.name;
  }

  /** The tenant's workspace ID (MSP mode); undefined for the client's own token. */
  get workspaceId(): string | undefined {
    return this.#deps.tenant?.workspaceId;
  }

  /** The cached token if it may still be forwarded; never waits. */
  current(): string | undefined {
    const token = this.#token;
    return token && Date.now() < this.#usableUntil(token) ? token.value : undefined;
  }

  /** A token that may be forwarded, waiting at most `waitMs` for the endpoint. */
  async get(waitMs: number = this.#deps.timeouts.tokenWaitMs): Promise<string> {
    const cached = this.current();
    if (cached !== undefined) return cached;
    const token = await this.#withDeadline(this.#inflight ?? this.#startFetch(waitMs), waitMs);
    return token.value;
  }

  /** The upstream refused `token` (401): forget it, unless a newer one already replaced it. */
  invalidate(token: string): void {
    if (this.#token?.value !== token) return;
    this.#log.info('token refused upstream: dropped, the next request fetches a new one');
    this.#token = undefined;
    clearTimeout(this.#refreshTimer);
    this.#deps.onInvalidate?.(token);
  }

  status(): TokenStatus {
    return {
      client: this.client,
      region: this.region,
      tenant: this.#deps.tenant === undefined ? null : { name: this.#deps.tenant.name, workspaceId: this.#deps.tenant.workspaceId },
      state: this.#state(),
      expiresAt: this.#token ? new Date(this.#token.expiresAt).toISOString() : null,
      lastRefreshAt: this.#lastRefreshAt ? new Date(this.#lastRefreshAt).toISOString() : null,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError ? { code: this.#lastError.code, message: this.#lastError.message } : null,
      fetches: this.#fetches,
    };
  }

  close(): void {
    clearTimeout(this.#refreshTimer);
    this.#stop.abort();
  }

  #state(): TokenState {
    const usable = this.current() !== undefined;
    if (usable) return this.#inflight ? 'refreshing' : 'valid';
    if (this.#inflight) return 'fetching';
    if (this.#failures > 0) return 'failing';
    return this.#token ? 'expired' : 'empty';
  }

  #usableUntil(token: CachedToken): number {
    return token.expiresAt - this.#deps.tokens.minTtlSeconds * 1000;
  }

  #startFetch(waitMs: number): Promise<CachedToken> {
    const delay = this.#retryNotBefore - Date.now();
    // Still cooling down after a failed fetch, for longer than this request will wait: fail now.
    if (this.#lastError && delay >= waitMs) return Promise.reject(this.#lastError);
    const cycle = this.#fetchWithRetries(Math.max(0, delay));
    this.#inflight = cycle;
    cycle.then(
      () => (this.#inflight = undefined),
      () => (this.#inflight = undefined),
    );
    return cycle;
  }

  async #fetchWithRetries(initialDelayMs: number): Promise<CachedToken> {
    if (initialDelayMs > 0) await this.#pause(initialDelayMs);
    const { maxAttempts, backoffMaxMs } = this.#deps.tokens;
    // A Retry-After longer than requests wait for a token ends this round; the cooldown honours it.
    const longestPause = Math.max(backoffMaxMs, this.#deps.timeouts.tokenWaitMs);
    for (let attempt = 1; ; attempt++) {
      try {
        return this.#store(await this.#fetchOnce());
      } catch (cause) {
        const err = asTokenError(cause);
        const delay = this.#backoff(attempt, err.retryAfterMs);
        const willRetry = err.retryable && attempt < maxAttempts && delay <= longestPause && !this.#stop.signal.aborted;
        this.#log.warn({ code: err.code, attempt, willRetry, err: err.message }, 'token fetch failed');
        if (!willRetry) throw this.#recordFailure(err);
        await this.#pause(delay);
      }
    }
  }

  async #fetchOnce(): Promise<IssuedToken> {
    const { tokens } = this.#deps;
    const issued = await this.#fetchToken((call) => this.#callEndpoint(call));
    const lifetimeSeconds = Math.round((issued.expiresAt - Date.now()) / 1000);
    if (lifetimeSeconds <= tokens.minTtlSeconds) {
      throw new TokenError(
        'GREENLAKE_PROXY_TOKEN_UNAVAILABLE',
        `token endpoint issued a token living ${lifetimeSeconds} s, not more than tokens.minTtlSeconds (${tokens.minTtlSeconds} s)`,
      );
    }
    const level = issued.lifetimeSource === 'default' ? 'warn' : 'info';
    this.#log[level]({ lifetimeSource: issued.lifetimeSource, lifetimeSeconds }, issued.lifetimeSource === 'default'
      ? 'token fetched; the answer had no expires_in and no JWT exp: assuming tokens.defaultLifetimeSeconds'
      : 'token fetched');
    return issued;
  }

  /** One call to a token endpoint, counted, timed and told to the observer. */
  async #callEndpoint(call: () => Promise<IssuedToken>): Promise<IssuedToken> {
    this.#fetches++;
    const startedAt = performance.now();
    const report = (outcome: TokenFetchOutcome): void =>
      this.#deps.observer?.tokenFetched(this.client, this.region, outcome, (performance.now() - startedAt) / 1000, this.tenant);
    try {
      const issued = await call();
      report('ok');
      return issued;
    } catch (err) {
      report(err instanceof TokenError ? outcomeOf(err.code) : 'unavailable');
      throw err;
    }
  }

  #store(issued: IssuedToken): CachedToken {
    const token = { value: issued.accessToken, expiresAt: issued.expiresAt };
    const now = Date.now();
    this.#token = token;
    this.#failures = 0;
    this.#lastError = undefined;
    this.#retryNotBefore = 0;
    this.#lastRefreshAt = now;
    const refreshIn = Math.max(MIN_REFRESH_DELAY_MS, (this.#usableUntil(token) - now) * REFRESH_AT_SHARE);
    this.#scheduleRefresh(refreshIn);
    return token;
  }

  #recordFailure(err: TokenError): TokenError {
    const now = Date.now();
    this.#failures++;
    this.#lastError = err;
    const cooldown = this.#backoff(this.#failures, err.retryAfterMs);
    this.#retryNotBefore = now + cooldown;
    if (this.#token && now >= this.#token.expiresAt) this.#token = undefined;
    // A cached token is still being served: keep trying in the background before it runs out.
    if (this.#token) this.#scheduleRefresh(cooldown);
    return err;
  }

  #scheduleRefresh(inMs: number): void {
    clearTimeout(this.#refreshTimer);
    if (this.#stop.signal.aborted) return;
    this.#refreshTimer = setTimeout(() => this.#refreshInBackground(), inMs);
    this.#refreshTimer.unref();
  }

  #refreshInBackground(): void {
    if (this.#inflight) return;
    this.#startFetch(Number.POSITIVE_INFINITY).catch(() => {
      /* already logged and recorded; requests keep the cached token while it lasts */
    });
  }

  /** Exponential backoff with equal jitter, never shorter than the endpoint's Retry-After. */
  #backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { backoffBaseMs, backoffMaxMs } = this.#deps.tokens;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (attempt - 1));
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
    return Math.max(jittered, retryAfterMs ?? 0);
  }

  async #pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.#stop.signal, ref: false });
    } catch {
      throw new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', 'shutting down');
    }
  }

  #withDeadline(pending: Promise<CachedToken>, waitMs: number): Promise<CachedToken> {
    if (!Number.isFinite(waitMs)) return pending;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.#timeoutError(waitMs)), waitMs);
    });
    return Promise.race([pending, deadline]).finally(() => clearTimeout(timer));
  }

  #timeoutError(waitMs: number): TokenError {
    const last = this.#lastError ? `; last error: ${this.#lastError.message}` : '';
    return new TokenError('GREENLAKE_PROXY_TOKEN_TIMEOUT', `no token within ${waitMs} ms${last}`, { retryable: true });
  }
}

function asTokenError(cause: unknown): TokenError {
  if (cause instanceof TokenError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', `token fetch failed: ${message}`, { retryable: true, cause });
}
