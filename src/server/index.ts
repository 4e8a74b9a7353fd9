import { Server as HttpsServer } from 'node:https';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { PROBE_PATHS, registerAdmin, type AdminState, type StatusReport } from '../admin/index.ts';
import { isLoopbackAddress, type ProxyConfig, type RouteConfig } from '../config/index.ts';
import { createInbound, readTlsFilesAtStart, watchTlsFiles, type TlsMaterial } from '../inbound/index.ts';
import { ProxyMetrics } from '../metrics/index.ts';
import { createHttpAgent } from '../net/index.ts';
import { buildProxyApp, mountRoute, type ListenerSettings, type MountedRoute } from '../proxy/index.ts';
import { TokenRegistry, type TokenKeeper } from '../tokens/index.ts';
import { VERSION } from './version.ts';

export { createLogger } from './logger.ts';
export { VERSION } from './version.ts';

export interface Gateway {
  /** The main listener, e.g. `http://127.0.0.1:8080`. */
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
}

/** Wires config -> tokens -> proxy for every listener and starts listening. */
export async function startGateway(config: ProxyConfig, logger: Logger): Promise<Gateway> {
  const listener = listenerSettings(config);
  const agent = createHttpAgent({ caFile: config.caFile, timeouts: config.timeouts });
  const metrics = new ProxyMetrics();
  const registry = new TokenRegistry(config, { dispatcher: agent, logger, observer: metrics });
  metrics.watchTokens(() => registry.statuses());
  const startedAt = new Date();
  let shuttingDown = false;
  const quit = Promise.withResolvers<void>();
  const admin: AdminState = {
    isReady: () => !shuttingDown,
    status: () => statusReport(config, registry, metrics, startedAt, !shuttingDown),
    metrics: async () => ({ contentType: metrics.contentType, text: await metrics.text() }),
    requestQuit: () => quit.resolve(),
  };
  const inbound = createInbound({ config: config.inbound, listenHost: config.listen.host, openRoutes: PROBE_PATHS, dispatcher: agent });
  const apps: FastifyInstance[] = [];
  const build = async (routes: MountedRoute[]): Promise<FastifyInstance> => {
    const app = await buildProxyApp({
      routes,
      dispatcher: agent,
      logger,
      admin: (a) => registerAdmin(a, admin),
      inbound,
      listener,
      observer: metrics,
    });
    apps.push(app);
    return app;
  };
  const keeperOf = (route: RouteConfig): TokenKeeper => registry.keeper(route.client, route.region) as TokenKeeper;
  let stopWatchingTls = (): void => {};

  try {
    const main = await build(
      config.routes.filter((r) => r.prefix !== undefined).map((r) => mountRoute(r, r.prefix as string, keeperOf(r))),
    );
    const ported = [];
    for (const route of config.routes.filter((r) => r.port !== undefined)) {
      ported.push({ route, app: await build([mountRoute(route, '', keeperOf(route))]) });
    }
    stopWatchingTls = watchCertificate(config, apps, logger);
    warnIfOpen(config, logger);
    const url = await main.listen({ host: config.listen.host, port: config.listen.port });
    const portUrls = new Map<string, string>();
    for (const { route, app } of ported) {
      portUrls.set(route.prefix ?? `port:${route.port}`, await app.listen({ host: config.listen.host, port: route.port }));
    }
    const adminApp = config.admin === undefined ? undefined : buildAdminApp(admin, logger);
    if (adminApp) apps.push(adminApp);
    const adminUrl = config.admin === undefined ? undefined : await adminApp?.listen(config.admin);
    logger.info({ url, adminUrl, portUrls: Object.fromEntries(portUrls), routes: config.routes.length }, 'greenlake-proxy listening');
    let closing: Promise<void> | undefined;
    const close = (graceMs = config.timeouts.shutdownGraceMs): Promise<void> => {
      shuttingDown = true;
      closing ??= (async () => {
        stopWatchingTls();
        await closeApps(apps, graceMs, logger);
        registry.close();
        await agent.close();
      })();
      return closing;
    };
    return { url, adminUrl, portUrls, tokens: registry, close, quitRequested: quit.promise };
  } catch (err) {
    stopWatchingTls();
    await Promise.allSettled(apps.map((a) => a.close()));
    registry.close();
    await agent.destroy();
    throw err;
  }
}

function listenerSettings(config: ProxyConfig): ListenerSettings {
  return {
    tls: config.listen.tls === undefined ? undefined : readTlsFilesAtStart(config.listen.tls),
    maxHeaderBytes: config.inbound.maxHeaderBytes,
    headersTimeoutMs: config.timeouts.inboundHeadersMs,
    idleTimeoutMs: config.timeouts.inboundIdleMs,
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

/** The start of a deliberate decision, written where operators look. */
function warnIfOpen(config: ProxyConfig, logger: Logger): void {
  const { inbound, listen } = config;
  if (isLoopbackAddress(listen.host) || inbound.apiKeys.length > 0 || inbound.jwt !== undefined) return;
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

/** Probes and metrics on an address of their own (the pod IP), never forwarding anything. */
function buildAdminApp(admin: AdminState, logger: Logger): FastifyInstance {
  const app = Fastify({ loggerInstance: logger, logController: new Fastify.LogController({ disableRequestLogging: true }) });
  registerAdmin(app as unknown as FastifyInstance, admin, 'operations');
  return app as unknown as FastifyInstance;
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
