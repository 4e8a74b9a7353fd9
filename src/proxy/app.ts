import { randomUUID } from 'node:crypto';
import type { ServerOptions, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from 'fastify';
import type { Dispatcher } from 'undici';
import type { RateBudgets } from '../budget/index.ts';
import { AccessError, InboundError, isLocalTokenPath, LOCAL_TOKEN_ENDPOINT, type Inbound, type TlsMaterial } from '../inbound/index.ts';
import { TokenError } from '../tokens/index.ts';
import { requestArrived, requestDone, turnOf } from './connection-turns.ts';
import { errorBody, fromInboundError, fromTokenError, ProxyError } from './errors.ts';
import { speaksDscc, urlSpeaksDscc } from './dscc.ts';
import { forward, type ForwardContext } from './forward.ts';
import { answerTokenRequest } from './local-token.ts';
import type { RequestObserver } from './observer.ts';
import type { BodyHolding } from './request-body.ts';
import { answerClientError, answerOutsideFastify } from './raw-answers.ts';
import { ALLOWED_METHODS, checkRequestHead, restoreTarget, routableUrl } from './request-checks.ts';
import type { RouteTable } from './route-table.ts';
import { withTenant } from './tenant.ts';

/** What the per-request log line says about forwarding, filled in as the request goes. */
export interface ProxyRequestInfo {
  readonly startedAt: number;
  route: string | undefined;
  client: string | undefined;
  /** The tenant workspace acted on (MSP mode), by name; absent for the client's own. */
  tenant?: string | undefined;
  upstreamStatus: number | undefined;
  replayed: boolean;
  /** Time spent waiting for the rate-limit budget of the request's API, in all. */
  heldMs: number;
  /** Sent again after an upstream 429. */
  retriedAfter429: boolean;
  /** The proxy's own errors also carry DSCC's fields (dscc.ts); undefined until a route is chosen. */
  dscc?: boolean | undefined;
  /** The rule that refused the request: `routes[/glp/global].readOnly`, `inbound.apiKeys[ci].allow`, `inbound.apiKeys[ci].methods`. */
  refusedBy?: string | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    proxy: ProxyRequestInfo;
  }
}

export interface ProxyAppOptions {
  /** The listener's routes; the server may replace them (SIGHUP) while the app runs. */
  readonly table: RouteTable;
  readonly dispatcher: Dispatcher;
  readonly logger: FastifyBaseLogger;
  /** Registers the admin endpoints under `/-/`: the proxy itself owns none of their state. */
  readonly admin: (app: FastifyInstance) => void;
  /** Who may call: its hooks run before anything is routed, its scope check before anything is forwarded. */
  readonly inbound: Inbound;
  readonly listener: ListenerSettings;
  /** Told about every request and upstream answer (metrics); optional. */
  readonly observer?: RequestObserver | undefined;
  /** GreenLake's per-API rate limits, shared by all listeners; undefined: pass 429s through, hold nothing. */
  readonly budget?: RateBudgets | undefined;
}

/** How the listener's HTTP server treats callers' connections. */
export interface ListenerSettings {
  /** Serve https with this pair; undefined: plain http. */
  readonly tls: TlsMaterial | undefined;
  /** Request line plus headers; more gets 431. */
  readonly maxHeaderBytes: number;
  /** Time to receive the request headers; then 408. */
  readonly headersTimeoutMs: number;
  /** Longest silence on a connection; never a cap on a whole (long) request. */
  readonly idleTimeoutMs: number;
  /** Bodies held for a 401 replay: size, deadline and the memory shared by all listeners. */
  readonly bodies: BodyHolding;
}

const ADMIN_PREFIX = '/-/';
/** The Fastify request a raw response belongs to, for the one 'close' listener of an app. */
const REQUEST_OF = Symbol('greenlake-proxy.request');
/** The caller's connection, kept: a closed response no longer has it, its request neither. */
const SOCKET_OF = Symbol('greenlake-proxy.socket');
type TrackedResponse = ServerResponse & { [REQUEST_OF]?: FastifyRequest; [SOCKET_OF]?: Socket };
const LOGS_INFO = new Set(['trace', 'debug', 'info']);
const REQUEST_ID_PATTERN = /^[\w.:@/+=-]{1,128}$/;

/** A listener's app: inbound checks, admin endpoints, the catch-all forwarder, and GreenLake-shaped errors. */
export async function buildProxyApp(options: ProxyAppOptions): Promise<FastifyInstance> {
  const table = options.table;
  const app = newFastify(options.listener, {
    loggerInstance: options.logger,
    logController: new Fastify.LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    genReqId: requestId,
    // No child logger per request (pino builds one with its redaction for every request, even
    // at warn): every line the proxy writes about a request carries reqId itself.
    childLoggerFactory: (logger: FastifyBaseLogger) => logger,
    routerOptions: { maxParamLength: 64 * 1024 },
    // Requests arriving while the app closes are answered by the onRequest hook, in GreenLake's shape.
    return503OnClosing: false,
    rewriteUrl: routableUrl,
    // trustProxy stays off: X-Forwarded-* never decides a caller's address, protocol or host.
    trustProxy: false,
    connectionTimeout: options.listener.idleTimeoutMs,
    frameworkErrors: (err, request, reply) => sendError(asProxyError(err), request, reply, table),
    clientErrorHandler: (err, socket) => answerClientError(err, socket, options.logger),
  });

  // Bodies are never parsed: they stream to the upstream as they came.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  answerOutsideFastify(app.server, options.logger);
  const observer = options.observer;
  const onResponseClose = function (this: TrackedResponse): void {
    const request = this[REQUEST_OF];
    if (request === undefined) return;
    const socket = this[SOCKET_OF];
    if (socket !== undefined) requestDone(socket);
    finishRequest(request, this, observer);
  };
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.decorateRequest('proxy', null as unknown as ProxyRequestInfo);
  app.addHook('onRequest', (request, reply, done) => {
    request.proxy = { startedAt: performance.now(), route: undefined, client: undefined, upstreamStatus: undefined, replayed: false, heldMs: 0, retriedAfter429: false };
    reply.header('x-request-id', request.id);
    observer?.requestStarted();
    // 'close' comes for every request, answered or abandoned; onResponse misses the abandoned ones.
    // One listener function per app, not a closure per request: the request rides on the response.
    (reply.raw as TrackedResponse)[REQUEST_OF] = request;
    reply.raw.on('close', onResponseClose);
    (reply.raw as TrackedResponse)[SOCKET_OF] = request.raw.socket;
    requestArrived(request.raw.socket);
    restoreTarget(request.raw);
    // Node parses `GET /x\r\nName: value` as HTTP/0.9 with headers: a request line cut short, never a real client.
    if (request.raw.httpVersionMajor !== 1) done(new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', 'only HTTP/1.0 and HTTP/1.1 are served'));
    else done(refusalBeforeRouting(request, reply, closing) ?? options.inbound.screen(request));
  });
  await options.inbound.register(app);

  options.admin(app);
  if (options.inbound.issuesStandIns) app.all(LOCAL_TOKEN_ENDPOINT, (request, reply) => answerTokenRequest(options.inbound, request, reply));
  const forwarding: ForwardContext = { dispatcher: options.dispatcher, observer, budget: options.budget, bodies: options.listener.bodies };
  app.all('*', (request, reply) => proxyRequest(table, options.inbound, forwarding, request, reply));
  app.setNotFoundHandler((request, reply) => sendError(notFound(request.raw.url ?? '', table), request, reply, table));
  app.setErrorHandler((err, request, reply) => sendError(asProxyError(err), request, reply, table));
  return app;
}

type AppOptions = Pick<FastifyServerOptions, 'loggerInstance' | 'logController' | 'genReqId' | 'childLoggerFactory' | 'routerOptions' | 'return503OnClosing' | 'rewriteUrl' | 'trustProxy' | 'connectionTimeout' | 'frameworkErrors' | 'clientErrorHandler'>;

function newFastify(listener: ListenerSettings, options: AppOptions): FastifyInstance {
  const server: ServerOptions = {
    maxHeaderSize: listener.maxHeaderBytes,
    // A missing Host is refused in GreenLake's shape (request-checks.ts), not with Node's bare 400.
    requireHostHeader: false,
    headersTimeout: listener.headersTimeoutMs,
    // Node looks for late headers only this often (default 30 s): keep the timeout close to what is configured.
    connectionsCheckingInterval: Math.min(1_000, listener.headersTimeoutMs),
  };
  if (listener.tls === undefined) return Fastify({ ...options, http: server });
  // The https instance differs from the http one only in its server type, which no route here uses.
  return Fastify({ ...options, https: { ...server, cert: listener.tls.cert, key: listener.tls.key } }) as unknown as FastifyInstance;
}

/**
 * The request line and framing (request-checks.ts), then the drain: while the app closes, a
 * request on a kept-alive connection gets GREENLAKE_PROXY_SHUTTING_DOWN, and the admin
 * endpoints still answer (readiness 503, status `ready: false`) so the drain can be watched.
 * Host, origin and required-header checks run next, in the same hook (see Inbound.screen).
 */
function refusalBeforeRouting(request: FastifyRequest, reply: FastifyReply, closing: boolean): ProxyError | undefined {
  const refusal = checkRequestHead(request.raw);
  if (refusal?.code === 'GREENLAKE_PROXY_METHOD_NOT_ALLOWED') reply.header('allow', ALLOWED_METHODS);
  if (refusal !== undefined || !closing) return refusal;
  reply.header('connection', 'close');
  if (request.raw.url?.startsWith(ADMIN_PREFIX)) return undefined;
  return new ProxyError('GREENLAKE_PROXY_SHUTTING_DOWN', 'the proxy is shutting down: send the request again on a new connection');
}

async function proxyRequest(
  table: RouteTable,
  inbound: Inbound,
  forwarding: ForwardContext,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const rawUrl = request.raw.url ?? '';
  const match = rawUrl.startsWith(ADMIN_PREFIX) ? undefined : table.match(rawUrl);
  if (!match) throw notFound(rawUrl, table);
  const turn = turnOf(request.raw.socket);
  if (turn !== undefined) await turn;
  if (reply.raw.destroyed) {
    reply.hijack();
    return;
  }
  request.proxy.route = match.route.name;
  request.proxy.client = match.route.config.client;
  request.proxy.dscc = speaksDscc(match.route, match.upstreamPath);
  if (inbound.issuesStandIns && isLocalTokenPath(rawUrl, match.route.mountPrefix.length)) return answerTokenRequest(inbound, request, reply);
  const refusal = inbound.authorize(request, match.route, match.rest);
  if (refusal !== undefined) {
    if (refusal instanceof AccessError) request.proxy.refusedBy = refusal.refusedBy;
    throw refusal;
  }
  const chosen = withTenant(match, request.headers);
  request.proxy.tenant = chosen.keeper.tenant;
  return forward(forwarding, chosen, request, reply);
}

function notFound(rawUrl: string, table: RouteTable): ProxyError {
  const path = rawUrl.split('?', 1)[0] ?? '';
  const shown = path.length > 200 ? `${path.slice(0, 200)}...` : path;
  const prefixes = table.routes.map((r) => r.mountPrefix).filter((p) => p !== '');
  const known = prefixes.length > 0 ? `; routes start with ${prefixes.sort().join(', ')}` : '';
  return new ProxyError('GREENLAKE_PROXY_ROUTE_NOT_FOUND', `no route for ${shown}${known}`);
}

function sendError(err: ProxyError, request: FastifyRequest, reply: FastifyReply, table: RouteTable): FastifyReply {
  const level = err.statusCode >= 500 ? 'warn' : 'info';
  request.log[level]({ reqId: request.id, code: err.code, err: err.message, cause: describeCause(err.cause) }, 'request failed');
  if (err.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.retryAfterSeconds));
  return reply
    .code(err.statusCode)
    .header('x-request-id', request.id)
    .type('application/json; charset=utf-8')
    .send(errorBody(err, request.id, request.proxy?.dscc ?? urlSpeaksDscc(table, request.raw.url ?? '')));
}

/** Fastify's own 4xx errors say what was wrong; anything unexpected is a 500 that says nothing more. */
function asProxyError(err: unknown): ProxyError {
  if (err instanceof ProxyError) return err;
  if (err instanceof InboundError) return fromInboundError(err);
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

/** The audit line and the metrics of one request, answered (status sent) or abandoned (499). */
function finishRequest(request: FastifyRequest, res: ServerResponse, observer: RequestObserver | undefined): void {
  const status = res.headersSent ? res.statusCode : 499;
  const { route, client, upstreamStatus, replayed, heldMs, retriedAfter429, startedAt } = request.proxy;
  observer?.requestFinished({ route, client, method: request.method, status });
  if (!LOGS_INFO.has(request.log.level)) return;
  request.log.info(
    {
      reqId: request.id,
      who: request.principal?.name,
      method: request.method,
      path: request.raw.url,
      route,
      client,
      ...(request.proxy.tenant !== undefined && { tenant: request.proxy.tenant }),
      status,
      ...(request.proxy.refusedBy !== undefined && { refusedBy: request.proxy.refusedBy }),
      ...(upstreamStatus !== undefined && upstreamStatus !== status && { upstreamStatus }),
      ...(replayed && { replayedAfter401: true }),
      ...(heldMs > 0 && { heldForRateLimitMs: Math.round(heldMs) }),
      ...(retriedAfter429 && { retriedAfter429: true }),
      ...(!res.writableFinished && { aborted: true }),
      durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
    },
    'request',
  );
}

function requestId(req: { headers: Record<string, string | string[] | undefined> }): string {
  const inbound = req.headers['x-request-id'];
  return typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound) ? inbound : randomUUID();
}
