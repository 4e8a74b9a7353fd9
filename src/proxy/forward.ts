import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { BudgetKey, RateBudgets } from '../budget/index.ts';
import { isTokenEndpointPath } from '../inbound/index.ts';
import { errorBody, fromBudgetRefusal, fromUpstreamError, type ProxyError } from './errors.ts';
import { downstreamHeaders, upstreamHeaders } from './headers.ts';
import type { RequestObserver } from './observer.ts';
import { bodyLength, readRequestBody, type BodyHolding, type RequestBody } from './request-body.ts';
import { countedAsRelayed } from './reclaim.ts';
import { CallerGoneError, relay } from './relay.ts';
import type { RouteMatch } from './route-table.ts';

export interface ForwardContext {
  readonly dispatcher: Dispatcher;
  readonly observer: RequestObserver | undefined;
  /** Per-API rate-limit budgets; undefined: none kept (upstream 429s simply pass through). */
  readonly budget?: RateBudgets | undefined;
  /** Which bodies are held so the request can be replayed once after a 401 (request-body.ts). */
  readonly bodies: BodyHolding;
}

/**
 * Sends one request upstream with the route's token and streams the answer straight into
 * the caller's socket (undici's dispatch API after `reply.hijack()`, relay.ts: no
 * intermediate Readable, no second pipe). On 401 the token is dropped, a fresh one fetched
 * (the keeper collapses concurrent fetches into one) and the request replayed once if its
 * body was held; never more than once.
 *
 * Errors before the first upstream byte (no token, unreachable upstream) are thrown or
 * written as GreenLake-shaped errors; once the answer has started, a failure can only cut
 * the connection.
 */
export async function forward(ctx: ForwardContext, match: RouteMatch, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  // The route's token, or the tenant's the caller picked (tenant.ts).
  const { keeper } = match;
  const budget = ctx.budget;
  // Hot path: the key (a scan of the path) and one Map lookup; only a used-up budget has an entry.
  const api = budget?.keyFor(keeper, request.method, match.route.upstreamOrigin, match.upstreamPath);
  if (api !== undefined && budget?.blockedUntil(api) !== undefined && !(await waitForBudget(budget, api, request, reply))) return;
  const cached = keeper.current();
  const pendingBody = readRequestBody(request.raw, ctx.bodies, reply.raw);
  const body = pendingBody instanceof Promise ? await pendingBody : pendingBody;
  // A token request carries the caller's credentials: it gets no token of ours, and is sent once.
  if (isTokenEndpointPath(match.upstreamPath)) return sendOnce(ctx, match, request, reply, body);
  const token = cached ?? (await keeper.get());
  reply.hijack();
  const res = reply.raw;
  const first = await send(ctx, match, request, res, token, body, { retry429: true, api });
  if (first === 'throttled') return retryAfter429(ctx, match, request, res, body, api as BudgetKey);
  if (first !== 'refused') return;
  request.proxy.replayed = true;
  const fresh = await tokenForRetry(match, request, res);
  if (fresh !== undefined) await send(ctx, match, request, res, fresh, body, { lastTry: true, api });
}

/** Its 401 says nothing about the proxy's token (never invalidated, nothing fetched) and it is never replayed. */
async function sendOnce(ctx: ForwardContext, match: RouteMatch, request: FastifyRequest, reply: FastifyReply, body: RequestBody): Promise<void> {
  reply.hijack();
  await send(ctx, match, request, reply.raw, undefined, body, { lastTry: true, api: undefined });
}

/** The token for a second try, after the reply was hijacked: a failure is written as an error. */
async function tokenForRetry(match: RouteMatch, request: FastifyRequest, res: ServerResponse): Promise<string | undefined> {
  try {
    return match.keeper.current() ?? (await match.keeper.get());
  } catch (err) {
    writeError(res, fromUpstreamError(err, match.route.upstreamOrigin), request);
    return undefined;
  }
}

/**
 * A request whose budget is used up waits until it reopens (at most rateLimits.maxWaitMs),
 * or is refused with 429 and Retry-After without calling the upstream. false: the caller went
 * away while held, and nothing is sent.
 */
async function waitForBudget(budget: RateBudgets, api: BudgetKey, request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  const outcome = await budget.hold(api, budget.settings.maxWaitMs, reply.raw);
  request.proxy.heldMs += outcome.heldMs;
  if (outcome.kind === 'go') return true;
  if (outcome.kind === 'refused') {
    reply.header('retry-after', String(outcome.refusal.retryAfterSeconds));
    throw fromBudgetRefusal(outcome.refusal);
  }
  reply.hijack();
  return false;
}

/** An idempotent request got a 429 (discarded): wait for the budget within what is left of maxWaitMs, then once more. */
async function retryAfter429(ctx: ForwardContext, match: RouteMatch, request: FastifyRequest, res: ServerResponse, body: RequestBody, api: BudgetKey): Promise<void> {
  const budget = ctx.budget as RateBudgets;
  const outcome = await budget.hold(api, allowanceLeft(budget, request), res);
  request.proxy.heldMs += outcome.heldMs;
  if (outcome.kind === 'gone') return;
  if (outcome.kind === 'refused') return writeError(res, fromBudgetRefusal(outcome.refusal), request, { 'retry-after': String(outcome.refusal.retryAfterSeconds) });
  request.proxy.retriedAfter429 = true;
  const token = await tokenForRetry(match, request, res);
  if (token !== undefined) await send(ctx, match, request, res, token, body, { lastTry: true, api });
}

function allowanceLeft(budget: RateBudgets, request: FastifyRequest): number {
  return budget.settings.maxWaitMs - request.proxy.heldMs;
}

type SendResult = 'answered' | 'refused' | 'throttled';

/**
 * One upstream exchange. 'refused': a 401 that may be replayed; 'throttled': a 429 that may be
 * retried once the budget reopens (their bodies were discarded). `token` undefined: the caller's
 * own credentials pass instead (a token request).
 */
async function send(
  ctx: ForwardContext,
  match: RouteMatch,
  request: FastifyRequest,
  res: ServerResponse,
  token: string | undefined,
  body: RequestBody,
  { lastTry = false, retry429 = false, api }: { lastTry?: boolean; retry429?: boolean; api: BudgetKey | undefined },
): Promise<SendResult> {
  const { route } = match;
  const startedAt = performance.now();
  let result: SendResult = 'answered';
  try {
    await relay(
      ctx.dispatcher,
      {
        origin: route.upstreamOrigin,
        path: match.upstreamPath,
        method: request.method as Dispatcher.HttpMethod,
        headers: upstreamHeaders(request.headers, token, request.id, bodyLength(body)),
        body: bodyOf(body),
      },
      ({ statusCode, headers }) => {
        ctx.observer?.upstreamAnswered(route.name, route.config.client, statusCode, (performance.now() - startedAt) / 1000);
        const budget = ctx.budget;
        if (budget !== undefined && api !== undefined) {
          budget.observe(api, statusCode, headers);
          if (statusCode === 429 && retry429 && budget.mayRetry(api, body.replayable, allowanceLeft(budget, request))) {
            result = 'throttled';
            return null;
          }
        }
        if (statusCode === 401 && token !== undefined) {
          // invalidate: false when the same token would be sent again (forced refreshes are rate-limited).
          const renewed = !lastTry && match.keeper.invalidate(token);
          if (renewed && body.replayable) {
            result = 'refused';
            return null;
          }
        }
        request.proxy.upstreamStatus = statusCode;
        // Only a Location header needs the proxy's own origin (rewriteLocation): most answers have none.
        const proxyOrigin = headers.location === undefined ? '' : `${request.protocol}://${request.host}`;
        res.writeHead(statusCode, downstreamHeaders(headers as Record<string, string | string[]>, route, proxyOrigin, request.id));
        return res;
      },
      res,
    );
  } catch (cause) {
    if (cause instanceof CallerGoneError) {
      // Routine (a closed tab, a killed script): not a warning.
      request.log.info({ reqId: request.id, code: cause.code }, 'caller went away before the answer was complete');
    } else if (res.headersSent) {
      // relay() has already cut the caller's connection.
      request.log.warn({ reqId: request.id, err: describe(cause) }, 'upstream answer cut short');
    } else {
      writeError(res, fromUpstreamError(cause, route.upstreamOrigin), request);
    }
  }
  return result;
}

/** A proxy error on a hijacked reply: written by hand, in the same shape as every other. */
function writeError(res: ServerResponse, err: ProxyError, request: FastifyRequest, headers: Record<string, string> = {}): void {
  request.log[err.statusCode >= 500 ? 'warn' : 'info']({ reqId: request.id, code: err.code, err: err.message, cause: describe(err.cause) }, 'request failed');
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(errorBody(err, request.id, request.proxy.dscc));
  res.writeHead(err.statusCode, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    'x-request-id': request.id,
    ...(err.retryAfterSeconds !== undefined && { 'retry-after': String(err.retryAfterSeconds) }),
    ...headers,
  });
  res.end(json);
}

function bodyOf(body: RequestBody): Dispatcher.DispatchOptions['body'] {
  switch (body.kind) {
    case 'none':
      return null;
    case 'buffered':
      return body.bytes;
    case 'stream':
      return countedAsRelayed(body.stream) as Dispatcher.DispatchOptions['body'];
  }
}

function describe(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? `${cause.name} ${code}: ${cause.message}` : `${cause.name}: ${cause.message}`;
}
