import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { BudgetApi, BudgetShare } from '../budget/index.ts';
import type { RedisStoreConfig } from '../config/index.ts';
import type { SharedCounter } from '../inbound/index.ts';
import { StoreUnavailable, type SharedToken, type TokenStore } from '../tokens/shared.ts';
import { BudgetMessageReader, budgetMessage } from './budget-messages.ts';
import { Sealer } from './seal.ts';

/** Told when the store is lost and when it is back: for the degraded gauge. */
export interface StoreObserver {
  storeDegraded(degraded: boolean): void;
}

/** Deletes KEYS[1] only if it still holds ARGV[1]: releasing a lock, dropping a token, never someone else's. */
const COMPARE_AND_DELETE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Counts KEYS[1] in a fixed window of ARGV[1] ms: {count, ms left}. */
const INCREMENT_IN_WINDOW = `
local count = redis.call('incr', KEYS[1])
if count == 1 then redis.call('pexpire', KEYS[1], ARGV[1]) end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then redis.call('pexpire', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}`;

interface WithIncrement {
  incrementInWindow(key: string, windowMs: number): Promise<[number, number]>;
}

const PROBE_INTERVAL_MS = 1000;

/** Rate-limit counter names remembered (API keys, JWT subjects, addresses); all forgotten when full. */
const LIMIT_NAMES_KEPT = 10_000;

const LIFETIME_SOURCES = new Set(['expires_in', 'jwt_exp', 'default']);

/**
 * Tokens, closed budgets and inbound rate-limit counters shared through Redis. No token is
 * cached here (the keepers cache); only the counters' key names are remembered. Every command
 * has commandTimeoutMs; while Redis is unreachable commands fail at once (no offline queue),
 * the proxy works from its own memory, and the client keeps reconnecting in the background.
 */
export class RedisTokenStore implements TokenStore, BudgetShare, SharedCounter {
  readonly #redis: Redis;
  /** Subscribed to closed budgets (a subscribed connection can do nothing else); made by listen(). */
  #subscriber: Redis | undefined;
  readonly #sealer: Sealer;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #observer: StoreObserver | undefined;
  readonly #limitNames = new Map<string, string>();
  #degraded = false;
  /** While degraded: a PING now and then, so that a Redis that was only slow is rejoined without waiting for a token fetch. */
  #probe: NodeJS.Timeout | undefined;
  #connectedOnce = false;
  #closed = false;

  constructor(config: RedisStoreConfig, logger: Logger, observer?: StoreObserver) {
    this.#sealer = new Sealer(config.encryptionKey);
    this.#prefix = config.keyPrefix;
    this.#log = logger.child({ store: 'redis' });
    this.#observer = observer;
    this.#redis = new Redis(config.url, {
      commandTimeout: config.commandTimeoutMs,
      connectTimeout: connectTimeoutMs(config),
      enableOfflineQueue: false,
      // Commands issued in the same tick go out in one write: the shared rate limiter sends one per request.
      enableAutoPipelining: true,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(100 * times, 2000),
      // A failed connect is told by the 'close' event below; ioredis must not print it itself.
      showFriendlyErrorStack: false,
    });
    // EVALSHA after the first call: the script is not sent with every request.
    this.#redis.defineCommand('incrementInWindow', { numberOfKeys: 1, lua: INCREMENT_IN_WINDOW });
    this.#redis.on('error', () => {});
    this.#redis.on('ready', () => this.#joined());
    this.#redis.on('close', () => this.#lost('connection closed'));
  }

  /** Resolves once connected, or after `maxMs` (then the proxy starts degraded and keeps reconnecting). */
  async connected(maxMs: number): Promise<boolean> {
    if (this.#redis.status === 'ready') return true;
    const ready = Promise.withResolvers<boolean>();
    const onReady = (): void => ready.resolve(true);
    this.#redis.once('ready', onReady);
    const timer = setTimeout(() => ready.resolve(false), maxMs);
    try {
      return await ready.promise;
    } finally {
      clearTimeout(timer);
      this.#redis.off('ready', onReady);
    }
  }

  /** True while Redis cannot be used and the proxy works from its own memory. */
  get degraded(): boolean {
    return this.#degraded;
  }

  slot(identity: readonly string[]): string {
    return this.#sealer.name(identity);
  }

  async read(slot: string): Promise<SharedToken | undefined> {
    const key = this.#tokenKey(slot);
    const value = await this.#run(() => this.#redis.get(key));
    return value === null ? undefined : this.#parse(value, key);
  }

  async write(slot: string, token: SharedToken): Promise<void> {
    const ttl = Math.floor(token.expiresAt - Date.now());
    if (ttl <= 0) return;
    const key = this.#tokenKey(slot);
    const plain = JSON.stringify({ t: token.accessToken, e: token.expiresAt, i: token.issuedAt, s: token.lifetimeSource });
    await this.#run(() => this.#redis.set(key, this.#sealer.seal(plain, key), 'PX', ttl));
  }

  async lock(slot: string, ttlMs: number): Promise<string | undefined> {
    const id = randomUUID();
    const answer = await this.#run(() => this.#redis.set(this.#lockKey(slot), id, 'PX', ttlMs, 'NX'));
    return answer === 'OK' ? id : undefined;
  }

  async unlock(slot: string, lockId: string): Promise<void> {
    await this.#run(() => this.#redis.eval(COMPARE_AND_DELETE, 1, this.#lockKey(slot), lockId));
  }

  async forget(slot: string, accessToken: string): Promise<void> {
    const key = this.#tokenKey(slot);
    const value = await this.#run(() => this.#redis.get(key));
    if (value === null || this.#parse(value, key)?.accessToken !== accessToken) return;
    await this.#run(() => this.#redis.eval(COMPARE_AND_DELETE, 1, key, value));
  }

  publish(api: BudgetApi, forMs: number): void {
    const channel = this.#budgetChannel();
    const message = this.#sealer.seal(budgetMessage(api, forMs, Date.now()), channel);
    this.#run(() => this.#redis.publish(channel, message)).catch(() => {
      /* degraded: the other replicas learn of it from their own 429s */
    });
  }

  async increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }> {
    // Degraded: count locally at once rather than make every request wait out a command timeout.
    if (this.#degraded) throw new StoreUnavailable('degraded');
    const name = this.#limitName(key);
    const redis = this.#redis as Redis & WithIncrement;
    const [count, ttlMs] = await this.#run(() => redis.incrementInWindow(name, windowMs));
    return { count, ttlMs };
  }

  listen(onClosed: (api: BudgetApi, forMs: number) => void): void {
    const channel = this.#budgetChannel();
    const reader = new BudgetMessageReader();
    // Queued until connected, and resubscribed after every reconnect.
    const subscriber = this.#redis.duplicate({ enableOfflineQueue: true, autoResubscribe: true });
    this.#subscriber = subscriber;
    subscriber.on('error', () => {});
    subscriber.on('message', (from: string, message: string) => {
      if (from !== channel) return;
      const plain = this.#sealer.open(message, channel);
      // Not ours, or a replay (seen before, or stale): ignored.
      const closed = plain === undefined ? undefined : reader.read(plain, Date.now());
      if (closed !== undefined) onClosed(closed.api, closed.forMs);
    });
    subscriber.subscribe(channel).catch(() => {
      /* retried by autoResubscribe once connected */
    });
  }

  /** At once: a replica going away leaves its lock to expire rather than wait for Redis. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#probe);
    this.#subscriber?.disconnect();
    this.#redis.disconnect();
  }

  /** An HMAC per request would cost more than the Redis call: names are remembered (a bounded set). */
  #limitName(caller: string): string {
    let name = this.#limitNames.get(caller);
    if (name === undefined) {
      if (this.#limitNames.size >= LIMIT_NAMES_KEPT) this.#limitNames.clear();
      name = `${this.#prefix}limit:${this.#sealer.name(['inbound-limit', caller])}`;
      this.#limitNames.set(caller, name);
    }
    return name;
  }

  #tokenKey(slot: string): string {
    return `${this.#prefix}token:${slot}`;
  }

  /** One channel per key prefix (per gateway); the budget's key is inside the sealed message. */
  #budgetChannel(): string {
    return `${this.#prefix}budget`;
  }

  #lockKey(slot: string): string {
    return `${this.#prefix}lock:${slot}`;
  }

  #parse(value: string, key: string): SharedToken | undefined {
    const plain = this.#sealer.open(value, key);
    if (plain === undefined) return undefined;
    try {
      const v = JSON.parse(plain) as Record<string, unknown>;
      if (typeof v.t !== 'string' || typeof v.e !== 'number' || typeof v.i !== 'number' || typeof v.s !== 'string' || !LIFETIME_SOURCES.has(v.s)) {
        return undefined;
      }
      return { accessToken: v.t, expiresAt: v.e, issuedAt: v.i, lifetimeSource: v.s as SharedToken['lifetimeSource'] };
    } catch {
      return undefined;
    }
  }

  async #run<T>(command: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreUnavailable('store closed');
    try {
      const result = await command();
      this.#joined();
      return result;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      this.#lost(why);
      throw new StoreUnavailable(`redis: ${why}`, { cause: err });
    }
  }

  #lost(why: string): void {
    if (this.#closed || this.#degraded) return;
    this.#degraded = true;
    this.#log.warn({ reason: clip(why) }, 'shared store unavailable: working from local memory and local token fetches (degraded)');
    this.#observer?.storeDegraded(true);
    this.#probe = setInterval(() => {
      this.#redis.ping().then(
        () => this.#joined(),
        () => {},
      );
    }, PROBE_INTERVAL_MS);
    this.#probe.unref();
  }

  #joined(): void {
    if (this.#closed) return;
    if (!this.#degraded && this.#connectedOnce) return;
    const rejoined = this.#degraded;
    this.#degraded = false;
    clearInterval(this.#probe);
    this.#connectedOnce = true;
    this.#log.info(rejoined ? 'shared store back: tokens are shared again (rejoined)' : 'shared store connected');
    this.#observer?.storeDegraded(false);
  }
}

/** How long a connection attempt may take, and how long a starting replica waits for Redis. */
export function connectTimeoutMs(config: RedisStoreConfig): number {
  return Math.max(1000, config.commandTimeoutMs * 5);
}

function clip(text: string): string {
  // ioredis messages name host and port, never the password; clipped all the same.
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
