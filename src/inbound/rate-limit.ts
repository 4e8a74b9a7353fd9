import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitConfig } from '../config/index.ts';
import { InboundError } from './errors.ts';

/** Counts one request; answers the error to send when over the limit. */
export type RateLimiter = (request: FastifyRequest, reply: FastifyReply) => Promise<InboundError | undefined>;

/**
 * Per principal (API key or JWT subject), else per client address: the socket's, never
 * X-Forwarded-For (trustProxy is off). Counting lives in @fastify/rate-limit's store.
 */
export async function createRateLimiter(app: FastifyInstance, config: RateLimitConfig): Promise<RateLimiter> {
  await app.register(rateLimit, { global: false });
  const count = app.createRateLimit({
    max: config.max,
    timeWindow: config.timeWindowMs,
    keyGenerator: (request) => request.principal?.name ?? request.ip,
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
