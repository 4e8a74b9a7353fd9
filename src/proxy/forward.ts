import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import { fromUpstreamError } from './errors.ts';
import { downstreamHeaders, upstreamHeaders } from './headers.ts';
import { bodyLength, readRequestBody, type RequestBody } from './request-body.ts';
import type { RouteMatch } from './route-table.ts';

/** Bodies up to this size are held so the request can be replayed once after a 401. */
export const MAX_REPLAY_BYTES = 1024 * 1024;

type UpstreamResponse = Dispatcher.ResponseData;

/**
 * Sends one request upstream with the route's token. On 401 the token is dropped, a
 * fresh one fetched (the keeper collapses concurrent fetches into one) and the request
 * replayed once if its body was held; never more than once.
 */
export async function forward(
  dispatcher: Dispatcher,
  match: RouteMatch,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { keeper } = match.route;
  const [firstToken, body] = await Promise.all([
    keeper.current() ?? keeper.get(),
    readRequestBody(request.raw, MAX_REPLAY_BYTES),
  ]);
  let token = firstToken;
  let res = await send(dispatcher, match, request, token, body);
  if (res.statusCode === 401) {
    keeper.invalidate(token);
    if (body.replayable) {
      await res.body.dump();
      token = await keeper.get();
      request.proxy.replayed = true;
      res = await send(dispatcher, match, request, token, body);
    }
  }
  request.proxy.upstreamStatus = res.statusCode;
  const proxyOrigin = `${request.protocol}://${request.host}`;
  return reply
    .code(res.statusCode)
    .headers(downstreamHeaders(res.headers, match.route, proxyOrigin, request.id))
    .send(res.body);
}

async function send(
  dispatcher: Dispatcher,
  match: RouteMatch,
  request: FastifyRequest,
  token: string,
  body: RequestBody,
): Promise<UpstreamResponse> {
  try {
    return await dispatcher.request({
      origin: match.route.upstreamOrigin,
      path: match.upstreamPath,
      method: request.method as Dispatcher.HttpMethod,
      headers: upstreamHeaders(request.headers, token, request.id, bodyLength(body)),
      body: bodyOf(body),
    });
  } catch (cause) {
    throw fromUpstreamError(cause, match.route.upstreamOrigin);
  }
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
