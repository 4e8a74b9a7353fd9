import { Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { PROBE_PATHS, registerAdmin, type AdminState, type StatusReport } from '../admin/index.ts';
import { RateBudgets, type BudgetStatus } from '../budget/index.ts';
import { isLoopbackAddress, socketOpenToOthers, type ProxyConfig, type RedisStoreConfig } from '../config/index.ts';
import { createInbound, InboundError, readTlsFilesAtStart, watchTlsFiles, type Inbound, type TlsMaterial } from '../inbound/index.ts';
import { ProxyMetrics } from '../metrics/index.ts';
import { createHttpAgent } from '../net/index.ts';
import { buildProxyApp, DEFAULT_MAX_REPLAY_BODY_BYTES, errorBody, ReplayMemory, ProxyError, RouteTable, type ListenerSettings, type MountedRoute } from '../proxy/index.ts';
import type { RedisTokenStore } from '../store/index.ts';
import { TokenRegistry } from '../tokens/index.ts';
import { changesNeedingRestart, closeListener, mainRoutes, portRoutes, type RouteListener } from './listeners.ts';
import { listenOnUnixSocket } from './unix-socket.ts';
import { VERSION } from './version.ts';

export { createLogger, isLogLevel, LOG_LEVELS, logDestination, type LogFormat, type LogLevel } from './logger.ts';
export { VERSION } from './version.ts';
export { listenOnUnixSocket, SocketListenError, unixSocketPathOf, unixSocketUrl, type SocketListenErrorCode, type UnixSocketListen } from './unix-socket.ts';

export interface Gateway {
  /** The main listener, e.g. `http://127.0.0.1:8080`, or `unix:/run/user/1000/greenlake-proxy.sock` on a socket (listen.socket). */
  readonly url: string;
  /** The operations-only admin listener, when `admin` is configured. */
  readonly adminUrl: string | undefined;
  /** Routes served on a port of their own: route name → URL. */
  readonly portUrls: ReadonlyMap<string, string>;
  readonly tokens: TokenRegistry;
  /** Readiness turns 503, listeners stop accepting, in-flight requests get `graceMs` to finish. */
  close(graceMs?: number): Promise<void>;
  /** Resolves when a caller asked for a shutdown (POST /-/quit). */
  readonly quitRequested: Promise<void>;
  /**
   * Applies a new, already validated configuration (SIGHUP): clients, routes, route ports,
   * token settings, rate-limit settings, API keys, JWT settings, allowed hosts and origins
   * change without dropping in-flight requests, and apply to the next request on every
   * connection (a removed key stops working on an open keep-alive connection too); tokens of
   * unchanged clients are kept. Listen addresses, inbound.rateLimit, inbound.maxHeaderBytes
   * and upstream TLS/timeouts need a restart: they are named in the result and in a warning.
   */
  reload(config: ProxyConfig): Promise<ReloadResult>;
}

export interface ReloadResult {
  readonly routes: number;
  readonly tokensKept: number;
  readonly needRestart: readonly string[];
}

export interface GatewayOptions {
  /**
   * Each route port listens on a free port instead of its configured one (`exec`'s private
   * proxy, which must not collide with a `serve` of the same configuration); portUrls says where.
   */
  readonly ephemeralRoutePorts?: boolean;
}

/** Wires config -> tokens -> proxy for every listener and starts listening. */
export async function startGateway(config: ProxyConfig, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  for (const { key, value, setBy, fileValue } of config.listenOverrides ?? []) {
    logger.warn({ key, value, setBy, fileValue, file: config.source }, `${key} ${value} from ${setBy} replaces the config file's ${fileValue}`);
  }
  if (config.listenIgnored !== undefined) {
    logger.warn({ ignored: config.listenIgnored, socket: config.listen.socket?.path }, `${config.listenIgnored.join(' and ')} not used: the config file's listen.socket is the main listener`);
  }
  const listener = listenerSettings(config);
  const agent = createHttpAgent({ caFile: config.caFile, timeouts: config.timeouts });
  const metrics = new ProxyMetrics();
  const store = config.store === undefined ? undefined : await openStore(config.store.redis, logger);
  if (store !== undefined) metrics.watchStore(() => store.degraded);
  const tokenDeps = { dispatcher: agent, logger, observer: metrics, store };
  // The configuration in force and its keepers: replaced together by reload().
  let current = { config, registry: new TokenRegistry(config, tokenDeps) };
  metrics.watchTokens(() => current.registry.statuses());
  const budget = config.rateLimits.enabled ? new RateBudgets(config.rateLimits, metrics, store) : undefined;
  const startedAt = new Date();
  let shuttingDown = false;
  const quit = Promise.withResolvers<void>();
  const admin: AdminState = {
    isReady: () => !shuttingDown,
    status: () => ({
      ...statusReport(current.config, current.registry, metrics, startedAt, !shuttingDown),
      rateLimits: budgetStatus(budget),
    }),
    metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
    requestQuit: () => quit.resolve(),
  };
  const inbound = createInbound({
    config: config.inbound,
    listenHost: config.listen.host,
    adminHost: config.admin?.host,
    openRoutes: PROBE_PATHS,
    dispatcher: agent,
    counter: store,
    standInSecret: config.store?.redis.encryptionKey,
  });
  const apps: FastifyInstance[] = [];
  const build = async (routes: MountedRoute[]): Promise<RouteListener> => {
    const table = new RouteTable(routes);
    const app = await buildProxyApp({
      table,
      dispatcher: agent,
      logger,
      admin: (a) => registerAdmin(a, admin),
      inbound,
      listener,
      observer: metrics,
      budget,
    });
    apps.push(app);
    return { app, table, url: '' };
  };
  const listenPort = async (port: number, route: MountedRoute): Promise<RouteListener> => {
    const ported = await build([route]);
    ported.url = await ported.app.listen({ host: config.listen.host, port: options.ephemeralRoutePorts === true ? 0 : port });
    return ported;
  };
  let stopWatchingTls = (): void => {};

  try {
    const main = await build(mainRoutes(config, current.registry));
    stopWatchingTls = watchCertificate(config, apps, logger);
    warnIfOpen(config, logger);
    main.url = await listenMain(main.app, config);
    const ported = new Map<number, RouteListener>();
    for (const [port, route] of portRoutes(config, current.registry)) ported.set(port, await listenPort(port, route));
    const adminApp = config.admin === undefined ? undefined : buildAdminApp(admin, inbound, logger);
    if (adminApp) apps.push(adminApp);
    const adminUrl = config.admin === undefined ? undefined : await adminApp?.listen({ host: config.admin.host, port: config.admin.port });
    logger.info({ url: main.url, adminUrl, portUrls: Object.fromEntries(portUrlsOf(ported)), routes: config.routes.length }, 'greenlake-proxy listening');

    const reload = async (next: ProxyConfig): Promise<ReloadResult> => {
      const needRestart = [...changesNeedingRestart(current.config, next), ...(await inbound.reconfigure(next.inbound))];
      const previous = current.registry;
      const registry = new TokenRegistry(next, tokenDeps, previous);
      main.table.replace(mainRoutes(next, registry));
      const wanted = portRoutes(next, registry);
      for (const [port, listener] of ported) {
        const route = wanted.get(port);
        if (route !== undefined) listener.table.replace([route]);
        else {
          ported.delete(port);
          apps.splice(apps.indexOf(listener.app), 1);
          void closeListener(listener, logger);
        }
      }
      for (const [port, route] of wanted) if (!ported.has(port)) ported.set(port, await listenPort(port, route));
      budget?.configure(next.rateLimits);
      current = { config: next, registry };
      previous.retire();
      const result = { routes: next.routes.length, tokensKept: registry.adoptedCount, needRestart };
      if (needRestart.length > 0) logger.warn(result, `configuration reloaded, but changes to ${needRestart.join(', ')} need a restart`);
      else logger.info(result, 'configuration reloaded');
      return result;
    };

    let closing: Promise<void> | undefined;
    const close = (graceMs = config.timeouts.shutdownGraceMs): Promise<void> => {
      shuttingDown = true;
      closing ??= (async () => {
        stopWatchingTls();
        await closeApps(apps, graceMs, logger);
        current.registry.close();
        store?.close();
        await agent.close();
      })();
      return closing;
    };
    return {
      url: main.url,
      adminUrl,
      get portUrls() {
        return portUrlsOf(ported);
      },
      get tokens() {
        return current.registry;
      },
      close,
      reload,
      quitRequested: quit.promise,
    };
  } catch (err) {
    stopWatchingTls();
    await Promise.allSettled(apps.map((a) => a.close()));
    current.registry.close();
    store?.close();
    await agent.destroy();
    throw err;
  }
}

/**
 * Connected, or degraded if Redis does not answer in time (the client keeps reconnecting).
 * ioredis is loaded only here: a proxy without a store never pays for it.
 */
async function openStore(config: RedisStoreConfig, logger: Logger): Promise<RedisTokenStore> {
  const { connectTimeoutMs, RedisTokenStore } = await import('../store/index.ts');
  const store = new RedisTokenStore(config, logger);
  await store.connected(connectTimeoutMs(config));
  return store;
}

function portUrlsOf(ported: ReadonlyMap<number, RouteListener>): Map<string, string> {
  const urls = new Map<string, string>();
  for (const [port, listener] of ported) urls.set(listener.table.routes[0]?.config.prefix ?? `port:${port}`, listener.url);
  return urls;
}

function listenerSettings(config: ProxyConfig): ListenerSettings {
  return {
    tls: config.listen.tls === undefined ? undefined : readTlsFilesAtStart(config.listen.tls),
    maxHeaderBytes: config.inbound.maxHeaderBytes,
    headersTimeoutMs: config.timeouts.inboundHeadersMs,
    idleTimeoutMs: config.timeouts.inboundIdleMs,
    bodies: { maxBodyBytes: DEFAULT_MAX_REPLAY_BODY_BYTES, holdMs: config.timeouts.requestBodyHoldMs, memory: new ReplayMemory(config.inbound.maxReplayMemoryBytes) },
  };
}

/** Renewed certificate files are served to new connections without a restart. */
function watchCertificate(config: ProxyConfig, apps: readonly FastifyInstance[], logger: Logger): () => void {
  const files = config.listen.tls;
  if (files === undefined) return () => {};
  const serve = (material: TlsMaterial): void => {
    for (const app of apps) if (app.server instanceof HttpsServer) app.server.setSecureContext(material);
    logger.info({ certFile: files.certFile }, 'TLS certificate reloaded');
  };
  const keep = (error: unknown): void => {
    const code = (error as { code?: unknown }).code;
    logger.warn({ certFile: files.certFile, keyFile: files.keyFile, code }, 'TLS files changed but are not a valid certificate and key: keeping the current certificate');
  };
  return watchTlsFiles(files, serve, keep);
}

async function listenMain(app: FastifyInstance, config: ProxyConfig): Promise<string> {
  const { socket } = config.listen;
  if (socket === undefined) return app.listen({ host: config.listen.host, port: config.listen.port });
  // Bound here rather than by app.listen: the socket's mode is set as it is created (unix-socket.ts).
  await app.ready();
  return listenOnUnixSocket(app.server, socket);
}

/** The start of a deliberate decision, written where operators look. */
function warnIfOpen(config: ProxyConfig, logger: Logger): void {
  const { inbound, listen } = config;
  if (inbound.apiKeys.length > 0 || inbound.jwt !== undefined) return;
  if (listen.socket !== undefined) {
    if (!socketOpenToOthers(listen.socket.mode)) return;
    logger.warn(
      { socket: listen.socket.path, mode: `0${listen.socket.mode.toString(8)}` },
      'every user of this machine may connect to the socket, and there is NO inbound authentication (allowUnauthenticated): they act with the API clients\' rights',
    );
    return;
  }
  if (isLoopbackAddress(listen.host)) return;
  logger.warn(
    { host: listen.host },
    'listening beyond loopback WITHOUT inbound authentication (allowUnauthenticated): anyone who can connect acts with the API clients\' rights',
  );
}

/**
 * Waits for in-flight requests; after the grace period, cuts whatever is left. A
 * kept-alive connection whose last request just finished is closed at once rather
 * than left open until its keep-alive timeout.
 */
async function closeApps(apps: FastifyInstance[], graceMs: number, logger: Logger): Promise<void> {
  const closeIdle = setInterval(() => {
    for (const app of apps) app.server.closeIdleConnections();
  }, 50);
  const grace = setTimeout(() => {
    logger.warn({ graceMs }, 'grace period over: closing the remaining connections');
    for (const app of apps) app.server.closeAllConnections();
  }, graceMs);
  try {
    await Promise.all(apps.map((app) => app.close()));
  } finally {
    clearInterval(closeIdle);
    clearTimeout(grace);
  }
}

/**
 * Probes and metrics on an address of their own (the pod IP), never forwarding anything. The
 * Host allow-list (its own address and inbound.allowedHosts) and the browser checks apply here
 * too: a page in a browser on the pod network must not read the metrics by DNS rebinding.
 */
function buildAdminApp(admin: AdminState, inbound: Inbound, logger: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: logger, logController: new Fastify.LogController({ disableRequestLogging: true }) }) as unknown as FastifyInstance;
  app.addHook('onRequest', (request, _reply, done) => done(inbound.screenOperations(request)));
  app.setErrorHandler((err, request, reply) => {
    const error = err instanceof InboundError ? new ProxyError(err.code, err.message) : new ProxyError('GREENLAKE_PROXY_INTERNAL', 'internal error');
    logger.info({ reqId: request.id, code: error.code, err: error.message }, 'admin request refused');
    return reply.code(error.statusCode).header('x-request-id', request.id).type('application/json; charset=utf-8').send(errorBody(error, request.id));
  });
  registerAdmin(app, admin, 'operations');
  return app;
}

/** Per-API rate-limit budgets for /-/status. */
function budgetStatus(budget: RateBudgets | undefined): BudgetStatus {
  return budget?.status() ?? { enabled: false, maxWaitMs: null, retryIdempotent: null, clients: [], apis: [] };
}

function statusReport(
  config: ProxyConfig,
  tokens: TokenRegistry,
  metrics: ProxyMetrics,
  startedAt: Date,
  ready: boolean,
): StatusReport {
  return {
    version: VERSION,
    startedAt: startedAt.toISOString(),
    ready,
    routes: config.routes.map((r) => ({
      name: r.prefix ?? `port:${r.port}`,
      prefix: r.prefix ?? null,
      port: r.port ?? null,
      upstream: r.upstream,
      client: r.client,
      region: r.region,
    })),
    clients: config.clients.map((c) => ({
      name: c.name,
      clientId: c.clientId,
      tokenUrl: c.tokenUrl,
      authMethod: c.authMethod,
      secretFrom: c.secret.kind === 'file' ? 'file' : 'config',
    })),
    tokens: tokens.statuses(),
    requests: metrics.recentRequests(),
  };
}
