import { randomUUID } from 'node:crypto';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Dispatcher } from 'undici';
import { TokenError } from '../tokens/index.ts';
import { errorBody, fromTokenError, ProxyError } from './errors.ts';
import { forward } from './forward.ts';
import { RouteTable, type MountedRoute } from './route-table.ts';

/** What the per-request log line says about forwarding, filled in as the request goes. */
export interface ProxyRequestInfo {
  route: string | undefined;
  client: string | undefined;
  upstreamStatus: number | undefined;
  replayed: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyRequestInfo;
  }
}

export interface ProxyAppOptions {
  readonly routes: readonly MountedRoute[];
  readonly dispatcher: Dispatcher;
  readonly logger: FastifyBaseLogger;
  /** Registers the admin endpoints under `/-/`: the proxy itself owns none of their state. */
  readonly admin: (app: FastifyInstance) => void;
}

const ADMIN_PREFIX = '/-/';
const REQUEST_ID_PATTERN = /^[\w.:@/+=-]{1,128}$/;

/** A listener's app: admin endpoints, the catch-all forwarder, and GreenLake-shaped errors. */
export function buildProxyApp(options: ProxyAppOptions): FastifyInstance {
  const table = new RouteTable(options.routes);
  const app = Fastify({
    loggerInstance: options.logger,
    logController: new Fastify.LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: requestId,
    routerOptions: { maxParamLength: 64 * 1024 },
    return503OnClosing: true,
    frameworkErrors: (err, request, reply) => sendError(asProxyError(err), request, reply),
  });

  // Bodies are never parsed: they stream to the upstream as they came.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  app.decorateRequest('proxy', null as unknown as ProxyRequestInfo);
  app.addHook('onRequest', async (request, reply) => {
    request.proxy = { route: undefined, client: undefined, upstreamStatus: undefined, replayed: false };
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => logRequest(request, reply));

  options.admin(app);
  app.all('*', (request, reply) => proxyRequest(table, options.dispatcher, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(notFound(request.raw.url ?? '', table), request, reply));
  app.setErrorHandler((err, request, reply) => sendError(asProxyError(err), request, reply));
  return app;
}

async function proxyRequest(
  table: RouteTable,
  dispatcher: Dispatcher,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const rawUrl = request.raw.url ?? '';
  const match = rawUrl.startsWith(ADMIN_PREFIX) ? undefined : table.match(rawUrl);
  if (!match) throw notFound(rawUrl, table);
  request.proxy.route = match.route.name;
  request.proxy.client = match.route.config.client;
  return forward(dispatcher, match, request, reply);
}

function notFound(rawUrl: string, table: RouteTable): ProxyError {
  const path = rawUrl.split('?', 1)[0] ?? '';
  const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path;
  const prefixes = table.routes.map((r) => r.mountPrefix).filter((p) => p !== '');
  const known = prefixes.length > 0 ? `; routes start with ${prefixes.sort().join(', ')}` : '';
  return new ProxyError('GREENLAKE_PROXY_ROUTE_NOT_FOUND', `no route for ${shown}${known}`);
}

function sendError(err: ProxyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const level = err.statusCode >= 500 ? 'warn' : 'info';
  request.log[level]({ code: err.code, err: err.message, cause: describeCause(err.cause) }, 'request failed');
  return reply
    .code(err.statusCode)
    .header('x-request-id', request.id)
    .type('application/json; charset=utf-8')
    .send(errorBody(err, request.id));
}

/** Fastify's own 4xx errors say what was wrong; anything unexpected is a 500 that says nothing more. */
function asProxyError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  if (err instanceof TokenError) return fromTokenError(err);
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    return new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', fastifyError.message ?? 'bad request', { cause: err });
  }
  if (status === 503) return new ProxyError('GREENLAKE_PROXY_SHUTTING_DOWN', 'shutting down', { cause: err });
  return new ProxyError('GREENLAKE_PROXY_INTERNAL', 'internal error', { cause: err });
}

function describeCause(cause: unknown): string | undefined {
  if (!(cause instanceof Error)) return undefined;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' ? `${cause.name} ${code}: ${cause.message}` : `${cause.name}: ${cause.message}`;
}

function logRequest(request: FastifyRequest, reply: FastifyReply): void {
  const { route, client, upstreamStatus, replayed } = request.proxy;
  request.log.info(
    {
      method: request.method,
      path: request.raw.url,
      route,
      client,
      status: reply.statusCode,
      ...(upstreamStatus !== undefined && upstreamStatus !== reply.statusCode && { upstreamStatus }),
      ...(replayed && { replayedAfter401: true }),
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
    },
    'request',
  );
}

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const inbound = req.headers['x-request-id'];
  return typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound) ? inbound : randomUUID();
}
