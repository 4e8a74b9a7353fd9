/**
 * What every API request goes through before its route: journal it, read (and hash) its
 * body as a stream, then the injected delay, bearer check, rate limit and injected status.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context.ts';
import type { RateDecision } from './rate-limit.ts';
import { pause } from './pause.ts';
import { sendStyledError } from './resources/index.ts';
import type { ApiRouteInfo, ErrorStyle } from './resources/index.ts';
import type { ApiRequestRecord } from './types.ts';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Bodies up to this size are kept for the resource routes; larger ones are only hashed. */
const MAX_KEPT_BODY_BYTES = 1024 * 1024;

const records = new WeakMap<FastifyRequest, ApiRequestRecord>();
const bodies = new WeakMap<FastifyRequest, Buffer>();

/** The journal record of an API request; its body has been read by the time a route runs. */
export function apiRecordOf(request: FastifyRequest): ApiRequestRecord {
  const record = records.get(request);
  if (record === undefined) throw new Error('API request without a journal record');
  return record;
}

/** The request body as read by the guard; undefined when it was too large to keep. */
export function keptBodyOf(request: FastifyRequest): Buffer | undefined {
  return bodies.get(request);
}

export function installApiGuard(app: FastifyInstance, ctx: EmulatorContext): void {
  app.addHook('onRequest', async (request) => {
    const record = newApiRecord(request);
    records.set(request, record);
    ctx.journal.addApiRequest(record);
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

function routeInfo(request: FastifyRequest): ApiRouteInfo | undefined {
  return (request.routeOptions.config as { api?: ApiRouteInfo }).api;
}

async function guard(ctx: EmulatorContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  const record = apiRecordOf(request);
  await readBody(request, record);
  const api = routeInfo(request);
  const errors: ErrorStyle = api?.errors ?? 'glp';

  const fault = ctx.apiFault.peek();
  if (fault?.kind === 'delay' && !(await pause(fault.ms, ctx.closing))) {
    reply.hijack(); // closing: the socket is destroyed anyway
    return reply;
  }

  const verdict = await ctx.issuer.verify(bearerToken(request.headers.authorization), ctx.origin());
  if (!verdict.ok) return sendStyledError(reply, errors, 401, verdict.message);
  record.tokenClientId = verdict.subject.clientId;

  const rate = ctx.rateLimiter.count(verdict.subject, api);
  if (rate !== undefined) {
    setRateLimitHeaders(reply, rate, api?.headers === 'iam');
    if (!rate.allowed) {
      // HPE does not document Retry-After; it is sent only when a test asks for it.
      if (ctx.retryAfterOn429()) reply.header('retry-after', String(rate.resetSeconds));
      return sendStyledError(reply, errors, 429, 'Too many requests: rate limit exceeded for this API');
    }
  }

  if (ctx.apiFault.peek()?.kind === 'status') {
    const statusFault = ctx.apiFault.take();
    if (statusFault?.kind === 'status') {
      const extras = statusFault.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: statusFault.retryAfterSeconds };
      return sendStyledError(reply, errors, statusFault.status, 'Injected fault', extras);
    }
  }
  return undefined;
}

/** Hashes the body as it streams; keeps it whole only while it is small. */
async function readBody(request: FastifyRequest, record: ApiRequestRecord): Promise<void> {
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of request.raw as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    if (bytes <= MAX_KEPT_BODY_BYTES) chunks.push(chunk);
  }
  record.bodyBytes = bytes;
  record.bodySha256 = bytes === 0 ? EMPTY_SHA256 : hash.digest('hex');
  if (bytes <= MAX_KEPT_BODY_BYTES) bodies.set(request, Buffer.concat(chunks));
}

function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.match(/^Bearer +(\S+) *$/i)?.[1];
}

function setRateLimitHeaders(reply: FastifyReply, rate: RateDecision, iam: boolean): void {
  const prefix = iam ? 'X-RateLimit' : 'ratelimit';
  reply.header(`${prefix}-${iam ? 'Limit' : 'limit'}`, String(rate.limit));
  reply.header(`${prefix}-${iam ? 'Remaining' : 'remaining'}`, String(rate.remaining));
  reply.header(`${prefix}-${iam ? 'Reset' : 'reset'}`, String(rate.resetSeconds));
}
