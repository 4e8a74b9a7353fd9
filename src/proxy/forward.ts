import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { errorBody, fromUpstreamError, type ProxyError } from './errors.ts';
import { downstreamHeaders, upstreamHeaders } from './headers.ts';
import type { RequestObserver } from './observer.ts';
import { bodyLength, readRequestBody, type RequestBody } from './request-body.ts';
import type { RouteMatch } from './route-table.ts';

/** Bodies up to this size are held so the request can be replayed once after a 401. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

export interface ForwardContext {
  readonly dispatcher: Dispatcher;
  readonly observer: RequestObserver | undefined;
}

/**
 * Sends one request upstream with the route's token and streams the answer straight into
 * the caller's socket (undici's `stream` API after `reply.hijack()`: no intermediate
 * Readable, no second pipe). On 401 the token is dropped, a fresh one fetched (the keeper
 * collapses concurrent fetches into one) and the request replayed once if its body was
 * held; never more than once.
 *
 * Errors before the first upstream byte (no token, unreachable upstream) are thrown or
 * written as GreenLake-shaped errors; once the answer has started, a failure can only cut
 * the connection.
 */
export async function forward(ctx: ForwardContext, match: RouteMatch, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const { keeper } = match.route;
  const cached = keeper.current();
  const pendingBody = readRequestBody(request.raw, MAX_REPLAY_BYTES);
  const body = pendingBody instanceof Promise ? await pendingBody : pendingBody;
  const token = cached ?? (await keeper.get());
  reply.hijack();
  const res = reply.raw;
  const first = await send(ctx, match, request, res, token, body);
  if (first !== 'refused') return;
  request.proxy.replayed = true;
  let fresh: string;
  try {
    fresh = await keeper.get();
  } catch (err) {
    writeError(res, fromUpstreamError(err, match.route.upstreamOrigin), request);
    return;
  }
  await send(ctx, match, request, res, fresh, body, { lastTry: true });
}

type SendResult = 'answered' | 'refused';

/** One upstream exchange. 'refused': a 401 that may be replayed (its body was discarded). */
async function send(
  ctx: ForwardContext,
  match: RouteMatch,
  request: FastifyRequest,
  res: ServerResponse,
  token: string,
  body: RequestBody,
  { lastTry = false } = {},
): Promise<SendResult> {
  const { route } = match;
  const startedAt = performance.now();
  let result: SendResult = 'answered';
  try {
    await ctx.dispatcher.stream(
      {
        origin: route.upstreamOrigin,
        path: match.upstreamPath,
        method: request.method as Dispatcher.HttpMethod,
        headers: upstreamHeaders(request.headers, token, request.id, bodyLength(body)),
        body: bodyOf(body),
      },
      ({ statusCode, headers }) => {
        ctx.observer?.upstreamAnswered(route.name, route.config.client, statusCode, (performance.now() - startedAt) / 1000);
        if (statusCode === 401) {
          if (!lastTry) match.route.keeper.invalidate(token);
          if (!lastTry && body.replayable) {
            result = 'refused';
            return discard();
          }
        }
        request.proxy.upstreamStatus = statusCode;
        const proxyOrigin = `${request.protocol}://${request.host}`;
        res.writeHead(statusCode, downstreamHeaders(headers as Record<string, string | string[]>, route, proxyOrigin, request.id));
        return res;
      },
    );
  } catch (cause) {
    if (res.headersSent) {
      request.log.warn({ reqId: request.id, err: describe(cause) }, 'upstream answer cut short');
      res.destroy();
    } else {
      writeError(res, fromUpstreamError(cause, route.upstreamOrigin), request);
    }
  }
  return result;
}

/** A proxy error on a hijacked reply: written by hand, in the same shape as every other. */
function writeError(res: ServerResponse, err: ProxyError, request: FastifyRequest): void {
  request.log[err.statusCode >= 500 ? 'warn' : 'info']({ reqId: request.id, code: err.code, err: err.message, cause: describe(err.cause) }, 'request failed');
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(errorBody(err, request.id));
  res.writeHead(err.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'x-request-id': request.id,
  });
  res.end(json);
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

function bodyOf(body: RequestBody): Dispatcher.DispatchOptions['body'] {
  switch (body.kind) {
    case 'none':
      return null;
    case 'buffered':
      return body.bytes;
    case 'stream':
      return body.stream as Dispatcher.DispatchOptions['body'];
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? `${cause.name} ${code}: ${cause.message}` : `${cause.name}: ${cause.message}`;
}
