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
 * The longest any timer of a keeper waits. A token that "lives" for years is still refreshed
 * daily, and no delay from outside (expires_in, JWT exp, Retry-After) reaches Node's 2^31-1 ms
 * timer limit, past which a timer fires at once (a fetch loop).
 */
export const MAX_TIMER_DELAY_MS = 24 * 3600 * 1000;
/** After a 401 drops a token, further 401s drop none for this long: a path that always answers 401 costs one fetch per interval, not one per request. */
export const FORCED_REFRESH_INTERVAL_MS = 10_000;

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
  /** When a 401 last dropped the token (epoch ms); forced refreshes are at most one per FORCED_REFRESH_INTERVAL_MS. */
  #lastForcedAt = Number.NEGATIVE_INFINITY;
  /** A request asked for a token since the last failed round: worth trying again in the background. */
  #demand = false;

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

  /**
   * A token that may be forwarded, waiting at most `waitMs` for the endpoint. While cooling
   * down after a failed round it fails at once (the error says when the next attempt is),
   * and that attempt is then made in the background.
   */
  async get(waitMs: number = this.#deps.timeouts.tokenWaitMs): Promise<string> {
    const cached = this.current();
    if (cached !== undefined) return cached;
    this.#demand = true;
    const token = await this.#withDeadline(this.#inflight ?? this.#startFetch(), waitMs);
    return token.value;
  }

  /**
   * The upstream refused `token` (401): forget it, unless a newer one already replaced it or a
   * 401 dropped one less than FORCED_REFRESH_INTERVAL_MS ago. true: the next token will be
   * another one (a replay is worth it); false: the same token would be sent again.
   */
  invalidate(token: string): boolean {
    if (this.#token?.value !== token) return true;
    const now = Date.now();
    if (now - this.#lastForcedAt < FORCED_REFRESH_INTERVAL_MS) {
      this.#deps.observer?.tokenRefusedUpstream?.(this.client, this.region, 'kept', this.tenant);
      return false;
    }
    this.#lastForcedAt = now;
    this.#log.info('token refused upstream: dropped, the next request fetches a new one');
    this.#deps.observer?.tokenRefusedUpstream?.(this.client, this.region, 'dropped', this.tenant);
    this.#token = undefined;
    clearTimeout(this.#refreshTimer);
    this.#deps.onInvalidate?.(token);
    return true;
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

  /** A round of attempts; a request's (`background` false) fails at once while cooling down after a failed one. */
  #startFetch(background = false): Promise<CachedToken> {
    const delay = this.#retryNotBefore - Date.now();
    if (this.#lastError && delay > 0 && !background) return Promise.reject(this.#coolingDown(this.#lastError, delay));
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
    const { backoffMaxMs } = this.#deps.tokens;
    // Once a round has failed, each round is one attempt: the cool-downs between them are where requests fail fast.
    const maxAttempts = this.#failures > 0 ? 1 : this.#deps.tokens.maxAttempts;
    this.#demand = false;
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

  /** Why a request gets no token now, and when the next attempt is (the proxy's Retry-After). */
  #coolingDown(last: TokenError, delayMs: number): TokenError {
    this.#demand = true;
    const code = last.code === 'GREENLAKE_PROXY_TOKEN_REJECTED' || last.code === 'GREENLAKE_PROXY_SECRET_UNREADABLE' ? last.code : 'GREENLAKE_PROXY_TOKEN_UNAVAILABLE';
    const seconds = Math.ceil(delayMs / 1000);
    return new TokenError(code, `${last.message} (no token held; next attempt in ${seconds} s)`, {
      retryable: last.retryable,
      ...(last.endpointStatus !== undefined && { endpointStatus: last.endpointStatus }),
      ...(last.oauth !== undefined && { oauth: last.oauth }),
      nextAttemptInMs: delayMs,
      cause: last,
    });
  }

  #recordFailure(err: TokenError): TokenError {
    const now = Date.now();
    this.#failures++;
    this.#lastError = err;
    const cooldown = this.#backoff(this.#failures, err.retryAfterMs);
    this.#retryNotBefore = now + cooldown;
    if (this.#token && now >= this.#token.expiresAt) this.#token = undefined;
    // A cached token is still being served, or requests are failing for want of one: try again
    // in the background after the cool-down (a keeper nobody asks stays quiet).
    this.#scheduleRefresh(cooldown);
    return err;
  }

  #scheduleRefresh(inMs: number): void {
    clearTimeout(this.#refreshTimer);
    if (this.#stop.signal.aborted) return;
    this.#refreshTimer = setTimeout(() => this.#refreshInBackground(), clampDelay(inMs));
    this.#refreshTimer.unref();
  }

  #refreshInBackground(): void {
    if (this.#inflight) return;
    if (this.#token === undefined && !this.#demand) return;
    this.#startFetch(true).catch(() => {
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
      await sleep(clampDelay(ms), undefined, { signal: this.#stop.signal, ref: false });
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

function clampDelay(ms: number): number {
  return Math.min(Math.max(0, ms), MAX_TIMER_DELAY_MS);
}

function asTokenError(cause: unknown): TokenError {
  if (cause instanceof TokenError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', `token fetch failed: ${message}`, { retryable: true, cause });
}
