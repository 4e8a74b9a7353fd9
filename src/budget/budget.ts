import { generalisePath } from './api-path.ts';
import { MAX_AHEAD_MS, parseCount, rateLimitHeader, readRateLimit, type UpstreamHeaders } from './headers.ts';

/** How the proxy spends GreenLake's per-API rate limits (config `rateLimits`). */
export interface BudgetSettings {
  /** Longest total time one request may be held for its budget; beyond it, 429 from the proxy. */
  readonly maxWaitMs: number;
  /** Retry GET, HEAD, OPTIONS, PUT and DELETE (with a replayable body) once after an upstream 429. */
  readonly retryIdempotent: boolean;
}

/** Whose limit a request spends: the API client's, or (MSP mode) the tenant workspace's it acts on. A TokenKeeper is one. */
export interface Credential {
  readonly client: string;
  /** The tenant's name; undefined for the client's own workspace. */
  readonly tenant: string | undefined;
}

/** The API a budget limits, as told to the other replicas: the credential, the upstream, the method and the generalised path. */
export interface BudgetApi extends Credential {
  readonly method: string;
  /** The upstream's origin, e.g. `https://global.api.greenlake.hpe.com`. */
  readonly origin: string;
  /** The path with its IDs generalised (`/devices/v1/devices/{id}`), no query. */
  readonly path: string;
}

/** One budget's key: computed once per request (`keyFor`), passed to every budget call for it. */
export interface BudgetKey extends BudgetApi {
  /** The Map key: credential and API in one string. */
  readonly id: string;
}

/** Who hears about held, refused and retried requests (the metrics). */
export interface BudgetObserver {
  /** A request starts waiting for its exhausted budget. */
  rateLimitHeld?(key: BudgetKey): void;
  /** A request is answered 429 by the proxy itself: its budget reopens too late. */
  rateLimitRefused?(key: BudgetKey): void;
  /** An idempotent request that got an upstream 429 will be sent once more instead of passing it on. */
  rateLimitRetried?(key: BudgetKey): void;
}

/**
 * Closed budgets told to and heard from the other replicas of a gateway (store.redis). Never on
 * the hot path: a replica hears of a closed budget asynchronously and keeps it in its own map.
 */
export interface BudgetShare {
  /** Tells the other replicas: `api`'s budget is closed for `forMs` from now. Never throws. */
  publish(api: BudgetApi, forMs: number): void;
  /** Hears the other replicas' closed budgets. */
  listen(onClosed: (api: BudgetApi, forMs: number) => void): void;
}

/** Anything that says when the caller went away: the reply's ServerResponse ('close'). */
export interface Caller {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

/** Why a request was not sent: the proxy maps it to its own 429 (GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED). */
export interface BudgetRefusal {
  readonly key: BudgetKey;
  /** When the budget reopens, ISO. */
  readonly resetAt: string;
  /** Whole seconds until then, at least 1: the proxy's Retry-After. */
  readonly retryAfterSeconds: number;
  readonly maxWaitMs: number;
}

export type HoldOutcome =
  /** Send it: the budget is open (again). */
  | { readonly kind: 'go'; readonly heldMs: number }
  /** Answer 429 without calling the upstream: the budget reopens later than the request may wait. */
  | { readonly kind: 'refused'; readonly heldMs: number; readonly refusal: BudgetRefusal }
  /** The caller went away while held: send nothing. */
  | { readonly kind: 'gone'; readonly heldMs: number };

/** One API's budget as the status page shows it. Times are ISO strings, null when unknown. */
export interface ApiBudgetStatus {
  readonly client: string;
  readonly tenant: string | null;
  readonly method: string;
  readonly upstream: string;
  readonly path: string;
  /** From the last upstream answer that carried rate-limit headers. */
  readonly limit: number | null;
  readonly remaining: number | null;
  readonly resetAt: string | null;
  readonly observedAt: string | null;
  /** New requests are held (or refused) until then; null: open. */
  readonly blockedUntil: string | null;
  /** Requests held right now. */
  readonly waiting: number;
  readonly held: number;
  readonly refused: number;
  readonly retried: number;
}

/** A credential's budgets added up. */
export interface ClientBudgetStatus {
  readonly client: string;
  readonly tenant: string | null;
  /** APIs with a budget kept. */
  readonly apis: number;
  /** Of them, closed now. */
  readonly closed: number;
  readonly waiting: number;
  readonly held: number;
  readonly refused: number;
  readonly retried: number;
}

export interface BudgetStatus {
  readonly enabled: boolean;
  readonly maxWaitMs: number | null;
  readonly retryIdempotent: boolean | null;
  readonly clients: readonly ClientBudgetStatus[];
  /** At most MAX_BUDGETS; the idle ones are forgotten first. */
  readonly apis: readonly ApiBudgetStatus[];
}

/** A 429 that says nothing about when to come back closes the budget this long. */
export const BLOCK_WITHOUT_RESET_MS = 1_000;
/** The longest one answer (or one replica's message) may close a budget: a garbled reset must not shut an API out for days. */
export const MAX_BLOCK_MS = MAX_AHEAD_MS;
/** Budgets kept at most (memory and /-/status stay bounded however many distinct paths are called). */
export const MAX_BUDGETS = 1_000;

/** `Number` is the fast path for the usual plain integer; parseCount reads the rest (`10, 10;w=60`). */
function remainingCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  // Number('') and Number(' ') are 0: anything but a plain positive integer goes the careful way.
  return n > 0 && Number.isInteger(n) ? n : parseCount(text);
}

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

interface Tally {
  readonly key: BudgetKey;
  limit: string | undefined;
  remaining: string | undefined;
  reset: string | undefined;
  observedAt: number;
  waiting: number;
  held: number;
  refused: number;
  retried: number;
}

/** The key of `api`; `path` already generalised. */
export function budgetKey(api: BudgetApi): BudgetKey {
  const { client, tenant, method, origin, path } = api;
  return { id: `${client}\n${tenant ?? ''}\n${method} ${origin}${path}`, client, tenant, method, origin, path };
}

/** A delay from outside, at most MAX_BLOCK_MS: no timer overflows, no Date is out of range. */
function withinBlock(ms: number): number {
  return ms > MAX_BLOCK_MS ? MAX_BLOCK_MS : ms;
}

/** For /-/status: never throws, whatever a header said. */
function isoOrNull(at: number | undefined): string | null {
  return at === undefined || !Number.isFinite(at) ? null : new Date(at).toISOString();
}

/**
 * One budget per credential and API: the API client (or tenant workspace) spending it, the
 * upstream, the method and the generalised path, since GreenLake limits each endpoint on its
 * own. A budget is exhausted when an answer says `remaining: 0` or is a 429; new requests for the
 * same API are then held until the reset the upstream announced, or refused at once when that is
 * further away than they may wait. Other APIs of the same client are not affected.
 *
 * The hot path (`blockedUntil`) is one Map lookup and one comparison: only exhausted budgets
 * have an entry. Answers are parsed only when they carry rate-limit headers or are 429s.
 */
export class RateBudgets {
  readonly #observer: BudgetObserver | undefined;
  readonly #share: BudgetShare | undefined;
  /** key id -> epoch ms until which its budget is exhausted. Only exhausted budgets are here. */
  readonly #blocks = new Map<string, number>();
  readonly #tallies = new Map<string, Tally>();
  #settings: BudgetSettings;

  /** `share`: the other replicas' budgets (store.redis); undefined: this process's answers only. */
  constructor(settings: BudgetSettings, observer?: BudgetObserver, share?: BudgetShare) {
    this.#settings = settings;
    this.#observer = observer;
    this.#share = share;
    share?.listen((api, forMs) => {
      const key = budgetKey(api);
      this.#tally(key);
      this.#close(key, Date.now() + withinBlock(forMs));
    });
  }

  get settings(): BudgetSettings {
    return this.#settings;
  }

  /** New settings (a reloaded configuration) apply to requests from now on; budgets are kept. */
  configure(settings: BudgetSettings): void {
    this.#settings = settings;
  }

  /** The budget a request spends; once per request. `pathAndQuery`: what is sent upstream. */
  keyFor(credential: Credential, method: string, origin: string, pathAndQuery: string): BudgetKey {
    return budgetKey({ client: credential.client, tenant: credential.tenant, method, origin, path: generalisePath(pathAndQuery) });
  }

  /** Hot path. undefined: the budget is open, send at once. Otherwise: when it reopens (epoch ms). */
  blockedUntil(key: BudgetKey): number | undefined {
    // Usually nothing is closed: then not even the key is hashed.
    if (this.#blocks.size === 0) return undefined;
    const until = this.#blocks.get(key.id);
    if (until === undefined) return undefined;
    if (Date.now() < until) return until;
    this.#blocks.delete(key.id);
    return undefined;
  }

  /**
   * Holds a request until its budget reopens, for at most `allowanceMs` in all. The budget may
   * close further while it waits (another answer announces a later reset): then it waits longer
   * if the allowance covers it, else it is refused then. Never loops: every wait ends at a moment
   * within the allowance.
   */
  hold(key: BudgetKey, allowanceMs: number, caller: Caller): Promise<HoldOutcome> {
    const startedAt = Date.now();
    const deadline = startedAt + withinBlock(Math.max(0, allowanceMs));
    const tally = this.#tally(key);
    const { promise, resolve } = Promise.withResolvers<HoldOutcome>();
    let timer: NodeJS.Timeout | undefined;
    let waiting = false;
    const finish = (outcome: HoldOutcome): void => {
      if (timer !== undefined) clearTimeout(timer);
      caller.off('close', onClose);
      if (waiting) tally.waiting -= 1;
      resolve(outcome);
    };
    const onClose = (): void => finish({ kind: 'gone', heldMs: Date.now() - startedAt });
    const check = (): void => {
      const now = Date.now();
      const until = this.blockedUntil(key);
      if (until === undefined) return finish({ kind: 'go', heldMs: now - startedAt });
      if (until > deadline) return finish(this.#refusal(tally, until, now, now - startedAt));
      if (!waiting) {
        waiting = true;
        tally.waiting += 1;
        tally.held += 1;
        this.#observer?.rateLimitHeld?.(key);
      }
      timer = setTimeout(check, until - now);
    };
    if (caller.destroyed) return Promise.resolve({ kind: 'gone', heldMs: 0 });
    caller.once('close', onClose);
    check();
    return promise;
  }

  /**
   * After every upstream answer. Cheap unless the answer is a 429 or carries rate-limit headers;
   * a budget is only ever closed here, never reopened early (an answer to a request sent before
   * the budget ran out may still be on its way).
   */
  observe(key: BudgetKey, status: number, headers: UpstreamHeaders): void {
    const remaining = rateLimitHeader(headers, 'remaining');
    if (remaining === undefined && status !== 429) return;
    const now = Date.now();
    const tally = this.#tally(key);
    if (remaining !== undefined) {
      tally.limit = rateLimitHeader(headers, 'limit');
      tally.remaining = remaining;
      tally.reset = rateLimitHeader(headers, 'reset');
      tally.observedAt = now;
    }
    // Most answers still have budget left: then nothing more is parsed.
    if (status !== 429 && remainingCount(remaining) !== 0) return;
    const reading = readRateLimit(headers, now);
    let until: number | undefined;
    if (status === 429) until = reading.retryAt ?? reading.resetAt ?? now + BLOCK_WITHOUT_RESET_MS;
    else if (reading.remaining === 0) until = reading.resetAt ?? reading.retryAt;
    if (until === undefined || until <= now) return;
    until = now + withinBlock(until - now);
    if (this.#close(key, until)) this.#share?.publish(key, until - now);
  }

  /** Closes a budget until `until` unless it is already closed longer; true when it changed. */
  #close(key: BudgetKey, until: number): boolean {
    const current = this.#blocks.get(key.id);
    if (current !== undefined && current >= until) return false;
    this.#blocks.set(key.id, until);
    return true;
  }

  /**
   * Right after `observe` saw a 429: whether this request may be held and sent once more instead
   * of passing the 429 on. Only idempotent methods with a body the proxy still holds, and only
   * when the budget reopens within what is left of the request's allowance.
   */
  mayRetry(key: BudgetKey, replayable: boolean, allowanceMs: number): boolean {
    if (!this.#settings.retryIdempotent || !replayable || !IDEMPOTENT_METHODS.has(key.method)) return false;
    const until = this.blockedUntil(key);
    if (until !== undefined && until - Date.now() > allowanceMs) return false;
    this.#tally(key).retried += 1;
    this.#observer?.rateLimitRetried?.(key);
    return true;
  }

  status(now: number = Date.now()): BudgetStatus {
    const apis = [...this.#tallies.values()].map((t) => this.#apiStatus(t, now));
    const clients = new Map<string, { -readonly [K in keyof ClientBudgetStatus]: ClientBudgetStatus[K] }>();
    for (const api of apis) {
      const id = `${api.client}\n${api.tenant ?? ''}`;
      let sum = clients.get(id);
      if (sum === undefined) {
        sum = { client: api.client, tenant: api.tenant, apis: 0, closed: 0, waiting: 0, held: 0, refused: 0, retried: 0 };
        clients.set(id, sum);
      }
      sum.apis += 1;
      if (api.blockedUntil !== null) sum.closed += 1;
      sum.waiting += api.waiting;
      sum.held += api.held;
      sum.refused += api.refused;
      sum.retried += api.retried;
    }
    const { maxWaitMs, retryIdempotent } = this.#settings;
    return { enabled: true, maxWaitMs, retryIdempotent, clients: [...clients.values()], apis };
  }

  #apiStatus(t: Tally, now: number): ApiBudgetStatus {
    const until = this.#blocks.get(t.key.id);
    const seen = t.observedAt > 0;
    const reading = readRateLimit({ 'ratelimit-limit': t.limit, 'ratelimit-remaining': t.remaining, 'ratelimit-reset': t.reset }, t.observedAt);
    return {
      client: t.key.client,
      tenant: t.key.tenant ?? null,
      method: t.key.method,
      upstream: t.key.origin,
      path: t.key.path,
      limit: seen ? (reading.limit ?? null) : null,
      remaining: seen ? (reading.remaining ?? null) : null,
      resetAt: seen ? isoOrNull(reading.resetAt) : null,
      observedAt: seen ? isoOrNull(t.observedAt) : null,
      blockedUntil: until !== undefined && until > now ? isoOrNull(until) : null,
      waiting: t.waiting,
      held: t.held,
      refused: t.refused,
      retried: t.retried,
    };
  }

  #tally(key: BudgetKey): Tally {
    let tally = this.#tallies.get(key.id);
    if (tally === undefined) {
      if (this.#tallies.size >= MAX_BUDGETS) this.#forgetOneIdle();
      tally = { key, limit: undefined, remaining: undefined, reset: undefined, observedAt: 0, waiting: 0, held: 0, refused: 0, retried: 0 };
      this.#tallies.set(key.id, tally);
    }
    return tally;
  }

  /** The oldest budget nobody waits for and that is open; only when MAX_BUDGETS are kept. */
  #forgetOneIdle(): void {
    const now = Date.now();
    for (const [id, tally] of this.#tallies) {
      const until = this.#blocks.get(id);
      if (tally.waiting > 0 || (until !== undefined && until > now)) continue;
      this.#tallies.delete(id);
      this.#blocks.delete(id);
      return;
    }
  }

  #refusal(tally: Tally, until: number, now: number, heldMs: number): HoldOutcome {
    tally.refused += 1;
    this.#observer?.rateLimitRefused?.(tally.key);
    const retryAfterSeconds = Math.max(1, Math.ceil((until - now) / 1000));
    const refusal = { key: tally.key, resetAt: new Date(until).toISOString(), retryAfterSeconds, maxWaitMs: this.#settings.maxWaitMs };
    return { kind: 'refused', heldMs, refusal };
  }
}
