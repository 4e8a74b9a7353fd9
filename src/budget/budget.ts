import { ProxyError } from '../proxy/errors.ts';
import type { RequestObserver } from '../proxy/observer.ts';
import { parseCount, rateLimitHeader, readRateLimit, type UpstreamHeaders } from './headers.ts';

/** How the proxy spends GreenLake's per-client rate limits (config `rateLimits`). */
export interface BudgetSettings {
  /** Longest total time one request may be held for its client's budget; beyond it, 429 from the proxy. */
  readonly maxWaitMs: number;
  /** Retry GET, HEAD, OPTIONS, PUT and DELETE (with a replayable body) once after an upstream 429. */
  readonly retryIdempotent: boolean;
}

/** Who hears about held, refused and retried requests (the metrics). */
export type BudgetObserver = Pick<RequestObserver, 'rateLimitHeld' | 'rateLimitRefused' | 'rateLimitRetried'>;

/**
 * Closed budgets told to and heard from the other replicas of a gateway (store.redis). Never on
 * the hot path: a replica hears of a closed budget asynchronously and keeps it in its own map.
 */
export interface BudgetShare {
  /** Tells the other replicas: `client`'s budget is closed for `forMs` from now. Never throws. */
  publish(client: string, forMs: number): void;
  /** Hears the other replicas' closed budgets. */
  listen(onClosed: (client: string, forMs: number) => void): void;
}

/** Anything that says when the caller went away: the reply's ServerResponse ('close'). */
export interface Caller {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

export type HoldOutcome =
  /** Send it: the budget is open (again). */
  | { readonly kind: 'go'; readonly heldMs: number }
  /** Answer 429 without calling the upstream: the budget reopens later than the request may wait. */
  | { readonly kind: 'refused'; readonly heldMs: number; readonly error: ProxyError; readonly retryAfter: string }
  /** The caller went away while held: send nothing. */
  | { readonly kind: 'gone'; readonly heldMs: number };

/** A client's budget as the status page shows it. Times are ISO strings, null when unknown. */
export interface ClientBudgetStatus {
  readonly client: string;
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

export interface BudgetStatus {
  readonly enabled: boolean;
  readonly maxWaitMs: number | null;
  readonly retryIdempotent: boolean | null;
  readonly clients: readonly ClientBudgetStatus[];
}

/** A 429 that says nothing about when to come back closes the budget this long. */
export const BLOCK_WITHOUT_RESET_MS = 1_000;
/** The longest one answer may close a budget: a garbled reset must not shut a client out for days. */
export const MAX_BLOCK_MS = 60 * 60 * 1000;

/** `Number` is the fast path for the usual plain integer; parseCount reads the rest (`10, 10;w=60`). */
function remainingCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  // Number('') and Number(' ') are 0: anything but a plain positive integer goes the careful way.
  return n > 0 && Number.isInteger(n) ? n : parseCount(text);
}

const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

interface Tally {
  limit: string | undefined;
  remaining: string | undefined;
  reset: string | undefined;
  observedAt: number;
  waiting: number;
  held: number;
  refused: number;
  retried: number;
}

/**
 * One budget per API client, shared by every route (and every caller) using that client.
 * A budget is exhausted when an answer says `remaining: 0` or is a 429; new requests for the
 * client are then held until the reset the upstream announced, or refused at once when that is
 * further away than they may wait.
 *
 * The hot path (`blockedUntil`) is one Map lookup and one comparison: only exhausted clients
 * have an entry. Answers are parsed only when they carry rate-limit headers or are 429s.
 */
export class RateBudgets {
  readonly #observer: BudgetObserver | undefined;
  readonly #share: BudgetShare | undefined;
  /** client -> epoch ms until which its budget is exhausted. Only exhausted clients are here. */
  readonly #blocks = new Map<string, number>();
  readonly #tallies = new Map<string, Tally>();
  #settings: BudgetSettings;

  /** `share`: the other replicas' budgets (store.redis); undefined: this process's answers only. */
  constructor(settings: BudgetSettings, observer?: BudgetObserver, share?: BudgetShare) {
    this.#settings = settings;
    this.#observer = observer;
    this.#share = share;
    share?.listen((client, forMs) => {
      this.#tally(client);
      this.#close(client, Date.now() + Math.min(forMs, MAX_BLOCK_MS));
    });
  }

  get settings(): BudgetSettings {
    return this.#settings;
  }

  /** New settings (a reloaded configuration) apply to requests from now on; budgets are kept. */
  configure(settings: BudgetSettings): void {
    this.#settings = settings;
  }

  /** Hot path. undefined: the client's budget is open, send at once. Otherwise: when it reopens (epoch ms). */
  blockedUntil(client: string): number | undefined {
    const until = this.#blocks.get(client);
    if (until === undefined) return undefined;
    if (Date.now() < until) return until;
    this.#blocks.delete(client);
    return undefined;
  }

  /**
   * Holds a request until its client's budget reopens, for at most `allowanceMs` in all. The
   * budget may close further while it waits (another answer announces a later reset): then it
   * waits longer if the allowance covers it, else it is refused then. Never loops: every wait
   * ends at a moment within the allowance.
   */
  hold(client: string, allowanceMs: number, caller: Caller): Promise<HoldOutcome> {
    const startedAt = Date.now();
    const deadline = startedAt + Math.max(0, allowanceMs);
    const tally = this.#tally(client);
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
      const until = this.blockedUntil(client);
      if (until === undefined) return finish({ kind: 'go', heldMs: now - startedAt });
      if (until > deadline) return finish(this.#refusal(client, tally, until, now, now - startedAt));
      if (!waiting) {
        waiting = true;
        tally.waiting += 1;
        tally.held += 1;
        this.#observer?.rateLimitHeld?.(client);
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
  observe(client: string, status: number, headers: UpstreamHeaders): void {
    const remaining = rateLimitHeader(headers, 'remaining');
    if (remaining === undefined && status !== 429) return;
    const now = Date.now();
    const tally = this.#tally(client);
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
    until = Math.min(until, now + MAX_BLOCK_MS);
    if (this.#close(client, until)) this.#share?.publish(client, until - now);
  }

  /** Closes a budget until `until` unless it is already closed longer; true when it changed. */
  #close(client: string, until: number): boolean {
    const current = this.#blocks.get(client);
    if (current !== undefined && current >= until) return false;
    this.#blocks.set(client, until);
    return true;
  }

  /**
   * Right after `observe` saw a 429: whether this request may be held and sent once more instead
   * of passing the 429 on. Only idempotent methods with a body the proxy still holds, and only
   * when the budget reopens within what is left of the request's allowance.
   */
  mayRetry(client: string, method: string, replayable: boolean, allowanceMs: number): boolean {
    if (!this.#settings.retryIdempotent || !replayable || !IDEMPOTENT_METHODS.has(method)) return false;
    const until = this.blockedUntil(client);
    if (until !== undefined && until - Date.now() > allowanceMs) return false;
    this.#tally(client).retried += 1;
    this.#observer?.rateLimitRetried?.(client);
    return true;
  }

  status(now: number = Date.now()): BudgetStatus {
    const clients = [...this.#tallies].map(([client, t]): ClientBudgetStatus => {
      const until = this.#blocks.get(client);
      const reading = readRateLimit({ 'ratelimit-limit': t.limit, 'ratelimit-remaining': t.remaining, 'ratelimit-reset': t.reset }, t.observedAt);
      const seen = t.observedAt > 0;
      return {
        client,
        limit: seen ? (reading.limit ?? null) : null,
        remaining: seen ? (reading.remaining ?? null) : null,
        resetAt: seen && reading.resetAt !== undefined ? new Date(reading.resetAt).toISOString() : null,
        observedAt: seen ? new Date(t.observedAt).toISOString() : null,
        blockedUntil: until !== undefined && until > now ? new Date(until).toISOString() : null,
        waiting: t.waiting,
        held: t.held,
        refused: t.refused,
        retried: t.retried,
      };
    });
    return { enabled: true, maxWaitMs: this.#settings.maxWaitMs, retryIdempotent: this.#settings.retryIdempotent, clients };
  }

  #tally(client: string): Tally {
    let tally = this.#tallies.get(client);
    if (tally === undefined) {
      tally = { limit: undefined, remaining: undefined, reset: undefined, observedAt: 0, waiting: 0, held: 0, refused: 0, retried: 0 };
      this.#tallies.set(client, tally);
    }
    return tally;
  }

  #refusal(client: string, tally: Tally, until: number, now: number, heldMs: number): HoldOutcome {
    tally.refused += 1;
    this.#observer?.rateLimitRefused?.(client);
    const seconds = Math.max(1, Math.ceil((until - now) / 1000));
    const resetAt = new Date(until).toISOString();
    const error = new ProxyError(
      'GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED',
      `the GreenLake rate limit of API client ${JSON.stringify(client)} is used up until ${resetAt} (in ${seconds} s), ` +
        `longer than requests may wait (rateLimits.maxWaitMs ${this.#settings.maxWaitMs}): not sent upstream; retry after ${seconds} s`,
      { details: [{ type: 'rate_limit', client, resetAt, retryAfterSeconds: seconds }] },
    );
    return { kind: 'refused', heldMs, error, retryAfter: String(seconds) };
  }
}
