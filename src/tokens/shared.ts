/**
 * Tokens shared by several replicas through a store (Redis): a fetch strategy wrapped around
 * the keeper's own, so the keeper stays what it is. A replica that needs a token takes the
 * shared one while it is fresh; else one replica at a time fetches (a lock with a TTL), the
 * others wait for its token. The store failing never fails a token: the inner strategy is used.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { IssuedToken } from './request-token.ts';
import type { TokenFetcher } from './sources.ts';

/** A token as stored: what the keeper needs, plus when it was issued (for the refresh point). */
export interface SharedToken extends IssuedToken {
  /** Epoch ms. */
  readonly issuedAt: number;
}

/**
 * Where replicas share tokens. `slot` names one (client, region[, tenant]) token. Every method
 * rejects with StoreUnavailable when the store cannot answer in time; never with anything else.
 */
export interface TokenStore {
  /** The slot name of a token identity (client ID, token URL, region, tenant) that does not reveal it. */
  slot(identity: readonly string[]): string;
  read(slot: string): Promise<SharedToken | undefined>;
  /** Kept for the token's remaining life. */
  write(slot: string, token: SharedToken): Promise<void>;
  /** The lock's id when taken (held for `ttlMs` at most), undefined when another replica holds it. */
  lock(slot: string, ttlMs: number): Promise<string | undefined>;
  /** Releases the lock only if it is still this id's (compare and delete). */
  unlock(slot: string, lockId: string): Promise<void>;
  /** Deletes the shared token only if it is `accessToken` (a newer one stays). */
  forget(slot: string, accessToken: string): Promise<void>;
}

export class StoreUnavailable extends Error {
  override readonly name = 'StoreUnavailable';
}

export interface SharedFetchOptions {
  readonly store: TokenStore;
  readonly slot: string;
  /**
   * tokens.tokenWaitMs. A replica waits for another one's fetch at most half of it, then fetches
   * itself (a lock planted by someone else, or a holder that hangs, delays it no longer); the other
   * half leaves time for that fetch within what the caller waits.
   */
  readonly waitMs: number;
  readonly lockTtlMs: number;
  /** tokens.minTtlSeconds in ms: a shared token is taken only before its refresh point. */
  readonly minTtlMs: number;
  /** Between two looks at the store while another replica fetches. */
  readonly pollMs?: number;
}

export interface SharedFetch {
  readonly fetchToken: TokenFetcher;
  /** The upstream refused `accessToken`: drop the shared copy too, if it is that token. */
  invalidate(accessToken: string): void;
}

/** Share of a token's usable life after which it is refreshed: the keeper's REFRESH_AT_SHARE. */
const REFRESH_AT_SHARE = 0.8;
const DEFAULT_POLL_MS = 50;
type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false };

export function sharedFetch(inner: TokenFetcher, options: SharedFetchOptions): SharedFetch {
  const { store, slot, lockTtlMs } = options;
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  // The last token the upstream refused: never taken from the store again, even before its deletion lands there.
  let refused: string | undefined;
  const fresh = (token: SharedToken | undefined): token is SharedToken => {
    if (token === undefined || token.accessToken === refused) return false;
    const usableUntil = token.expiresAt - options.minTtlMs;
    return Date.now() < token.issuedAt + (usableUntil - token.issuedAt) * REFRESH_AT_SHARE;
  };

  const fetchToken: TokenFetcher = async (endpoint) => {
    const deadline = Date.now() + options.waitMs / 2;
    for (;;) {
      const shared = await attempt(() => store.read(slot));
      if (!shared.ok) return fetchAndShare(endpoint, 'later');
      if (fresh(shared.value)) return shared.value;
      const lock = await attempt(() => store.lock(slot, lockTtlMs));
      if (!lock.ok) return fetchAndShare(endpoint, 'later');
      if (lock.value !== undefined) return fetchHoldingLock(lock.value, endpoint);
      // Whoever holds the lock has had its time: fetch here rather than fail (the lock may not even be a replica's).
      if (Date.now() + pollMs > deadline) return fetchAndShare(endpoint, 'later');
      await sleep(pollMs, undefined, { ref: false });
    }
  };

  /**
   * The inner fetch, and the token written back so the other replicas take it. 'first': written
   * before returning (a lock holder: who waits for it reads the store next). 'later': in the
   * background, so a store that has just failed a command does not also delay this token;
   * a store that failed one command may well take the next.
   */
  const fetchAndShare = async (endpoint: Parameters<TokenFetcher>[0], write: 'first' | 'later'): Promise<IssuedToken> => {
    const issuedAt = Date.now();
    const issued = await inner(endpoint);
    const written = attempt(() => store.write(slot, { ...issued, issuedAt }));
    if (write === 'first') await written;
    else void written.catch(() => {});
    return issued;
  };

  const fetchHoldingLock = async (lockId: string, endpoint: Parameters<TokenFetcher>[0]): Promise<IssuedToken> => {
    try {
      // Another replica may have written a token between our read and our lock.
      const again = await attempt(() => store.read(slot));
      if (again.ok && fresh(again.value)) return again.value;
      return await fetchAndShare(endpoint, 'first');
    } finally {
      void attempt(() => store.unlock(slot, lockId)).catch(() => {});
    }
  };

  return {
    fetchToken,
    invalidate: (accessToken) => {
      refused = accessToken;
      void attempt(() => store.forget(slot, accessToken)).catch(() => {});
    },
  };
}

/** A store call whose failure means "work without the store"; anything but StoreUnavailable is a bug and thrown. */
async function attempt<T>(op: () => Promise<T>): Promise<Attempt<T>> {
  try {
    return { ok: true, value: await op() };
  } catch (err) {
    if (err instanceof StoreUnavailable) return { ok: false };
    throw err;
  }
}
