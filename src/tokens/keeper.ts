import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { readSecret, type ClientConfig, type TimeoutsConfig, type TokensConfig } from '../config/index.ts';
import { TokenError } from './errors.ts';
import { outcomeOf, type TokenFetchOutcome, type TokenObserver } from './observer.ts';
import { requestToken, type IssuedToken } from './request-token.ts';

export type TokenState = 'empty' | 'fetching' | 'valid' | 'refreshing' | 'failing' | 'expired';

/** What may be shown of a token: never the token itself. */
export interface TokenStatus {
  readonly client: string;
  readonly region: string;
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
  readonly tokens: TokensConfig;
  readonly timeouts: TimeoutsConfig;
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly observer?: TokenObserver | undefined;
}

interface CachedToken {
  readonly value: string;
  readonly expiresAt: number;
}

/** Share of a token's usable life after which it is refreshed in the background. */
const REFRESH_AT_SHARE = 0.8;
const MIN_REFRESH_DELAY_MS = 1000;

/**
 * The whole life of one (client, region) token: fetch, cache, refresh ahead of
 * expiry, back off on failure, drop once expired. One owner, one timer, one
 * in-flight fetch; everyone else just asks for the current token.
 */
export class TokenKeeper {
  readonly #deps: KeeperDeps;
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
    this.#log = deps.logger.child({ client: deps.client.name, region: deps.region });
  }

  get client(): string {
    return this.#deps.client.name;
  }

  get region(): string {
    return this.#deps.region;
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
  }

  status(): TokenStatus {
    return {
      client: this.client,
      region: this.region,
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
    const { client, tokens, timeouts, dispatcher } = this.#deps;
    const clientSecret = await readClientSecret(client);
    this.#fetches++;
    const startedAt = performance.now();
    const report = (outcome: TokenFetchOutcome): void =>
      this.#deps.observer?.tokenFetched(client.name, this.region, outcome, (performance.now() - startedAt) / 1000);
    let issued: IssuedToken;
    try {
      issued = await requestToken(
        {
          tokenUrl: client.tokenUrl,
          clientId: client.clientId,
          clientSecret,
          authMethod: client.authMethod,
          timeoutMs: timeouts.tokenRequestMs,
          dispatcher,
        },
        tokens.defaultLifetimeSeconds * 1000,
      );
    } catch (err) {
      report(err instanceof TokenError ? outcomeOf(err.code) : 'unavailable');
      throw err;
    }
    report('ok');
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

async function readClientSecret(client: ClientConfig): Promise<string> {
  try {
    return await readSecret(client);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : 'unreadable';
    // Retryable: a mounted secret being rotated can be missing for a moment.
    throw new TokenError('GREENLAKE_PROXY_SECRET_UNREADABLE', `client secret of ${client.name}: ${why}`, {
      retryable: true,
      cause,
    });
  }
}

function asTokenError(cause: unknown): TokenError {
  if (cause instanceof TokenError) return cause;
  const message = cause instanceof Error ? cause.message : String(cause);
  return new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', `token fetch failed: ${message}`, { retryable: true, cause });
}
