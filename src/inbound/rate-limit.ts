import rateLimit, { type FastifyRateLimitStore, type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitConfig } from '../config/index.ts';
import { InboundError } from './errors.ts';

/** Counts one request; answers the error to send when over the limit. */
export type RateLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<InboundError | undefined>;

/**
 * Counters shared by the replicas of one gateway (Redis), so a key's limit holds whichever
 * replica it reaches. Rejects when the store cannot answer; the limiter then counts locally.
 */
export interface SharedCounter {
  /** Adds one to `key` in a fixed window of `windowMs`: the count so far and the window's ms left. */
  increment(key: string, windowMs: number): Promise<{ count: number; ttlMs: number }>;
}

/**
 * Per principal (API key or JWT subject), else per client address: the socket's, never
 * X-Forwarded-For (trustProxy is off). Counting lives in @fastify/rate-limit's store, or in
 * the shared counter when there is one.
 */
export async function createRateLimiter(app: FastifyInstance, config: RateLimitConfig, shared?: SharedCounter): Promise<RateLimiter> {
  await app.register(rateLimit, { global: false, ...(shared === undefined ? {} : { store: sharedStore(shared) }) });
  const count = app.createRateLimit({
    max: config.max,
    timeWindow: config.timeWindowMs,
    // No address on a Unix socket: its callers, all of this machine, share one count.
    keyGenerator: (request) => request.principal?.name ?? request.ip ?? 'unix-socket',
  });
  return async (request, reply) => {
    const decision = await count(request);
    if (decision.isAllowed || !decision.isExceeded) return undefined;
    const retryAfter = String(Math.max(1, decision.ttlInSeconds));
    reply.header('retry-after', retryAfter).header('ratelimit-limit', String(decision.max)).header('ratelimit-remaining', '0').header('ratelimit-reset', retryAfter);
    return new InboundError(
      'GREENLAKE_PROXY_RATE_LIMITED',
      `more than ${decision.max} requests in ${config.timeWindowMs} ms: retry after ${retryAfter} s`,
    );
  };
}

/**
 * A @fastify/rate-limit store counting in the shared counter; while that is unavailable, in
 * the plugin's own in-memory store (each replica then limits on its own, never refuses for it).
 */
function sharedStore(shared: SharedCounter): FastifyRateLimitStoreCtor {
  return class SharedStore implements FastifyRateLimitStore {
    readonly #local = new LocalStore(false, false);

    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void {
      shared.increment(key, timeWindow).then(
        ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
        () => this.#local.incr(key, callback, timeWindow, max),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
