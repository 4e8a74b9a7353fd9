/**
 * What every API request goes through before its route: journal it, read (and hash) its
 * body as a stream, then the injected delay, bearer check, rate limit and injected status.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context.ts';
import type { RateDecision } from './rate-limit.ts';
import { pause } from './pause.ts';
import { sendGreenLakeError } from './replies.ts';
import { digestStream } from './streams.ts';
import type { ApiRequestRecord } from './types.ts';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const records = new WeakMap<FastifyRequest, ApiRequestRecord>();

/** The journal record of an API request; its body has been read by the time a route runs. */
export function apiRecordOf(request: FastifyRequest): ApiRequestRecord {
  const record = records.get(request);
  if (record === undefined) throw new Error('API request without a journal record');
  return record;
}

export function installApiGuard(app: FastifyInstance, ctx: EmulatorContext): void {
  app.addHook('onRequest', async (request) => {
    const record = newApiRecord(request);
    records.set(request, record);
    ctx.journal.apiRequests.push(record);
  });
  app.addHook('preHandler', (request, reply) => guard(ctx, request, reply));
  app.addHook('onSend', async (request, reply, payload) => {
    apiRecordOf(request).status = reply.statusCode;
    return payload;
  });
}

function newApiRecord(request: FastifyRequest): ApiRequestRecord {
  return {
    at: Date.now(),
    method: request.method,
    rawUrl: request.originalUrl,
    host: request.headers.host,
    headers: { ...request.raw.headers },
    bodyBytes: 0,
    bodySha256: EMPTY_SHA256,
    tokenClientId: undefined,
    status: 0,
  };
}

async function guard(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const record = apiRecordOf(request);
  const body = await digestStream(request.raw);
  record.bodyBytes = body.bytes;
  record.bodySha256 = body.sha256;

  const fault = ctx.apiFault.peek();
  if (fault?.kind === 'delay' && !(await pause(fault.ms, ctx.closing))) {
    reply.hijack(); // closing: the socket is destroyed anyway
    return reply;
  }

  const verdict = await ctx.issuer.verify(bearerToken(request.headers.authorization), ctx.origin());
  if (!verdict.ok) return sendGreenLakeError(reply, 401, verdict.message);
  record.tokenClientId = verdict.subject.clientId;

  const rate = ctx.rateLimiter.count(verdict.subject.clientId);
  if (rate !== undefined) {
    setRateLimitHeaders(reply, rate);
    if (!rate.allowed) {
      reply.header('retry-after', String(rate.resetSeconds));
      return sendGreenLakeError(reply, 429, 'Too many requests: rate limit exceeded for this API client');
    }
  }

  if (ctx.apiFault.peek()?.kind === 'status') {
    const statusFault = ctx.apiFault.take();
    if (statusFault?.kind === 'status') return sendGreenLakeError(reply, statusFault.status, 'Injected fault');
  }
  return undefined;
}

function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.match(/^Bearer +(\S+) *$/i)?.[1];
}

function setRateLimitHeaders(reply: FastifyReply, rate: RateDecision): void {
  reply.header('ratelimit-limit', String(rate.limit));
  reply.header('ratelimit-remaining', String(rate.remaining));
  reply.header('ratelimit-reset', String(rate.resetSeconds));
}
