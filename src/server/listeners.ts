import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ProxyConfig, RouteConfig } from '../config/index.ts';
import { mountRoute, RouteTable, type MountedRoute, type TenantLookup } from '../proxy/index.ts';
import type { TokenKeeper, TokenRegistry } from '../tokens/index.ts';

/** A listener the proxy serves routes on: the main one, or one route's own port. */
export interface RouteListener {
  readonly app: FastifyInstance;
  readonly table: RouteTable;
  url: string;
}

/** The routes each listener serves, from a configuration and its token keepers. */
export function mainRoutes(config: ProxyConfig, registry: TokenRegistry): MountedRoute[] {
  return config.routes.filter((r) => r.prefix !== undefined).map((r) => mount(r, r.prefix as string, registry));
}

/** Port → the one route served at `/` of that port. */
export function portRoutes(config: ProxyConfig, registry: TokenRegistry): Map<number, MountedRoute> {
  const byPort = new Map<number, MountedRoute>();
  for (const route of config.routes) if (route.port !== undefined) byPort.set(route.port, mount(route, '', registry));
  return byPort;
}

function mount(route: RouteConfig, mountPrefix: string, registry: TokenRegistry): MountedRoute {
  const keeper = registry.keeper(route.client, route.region, route.tenant) as TokenKeeper;
  // MSP mode: X-GreenLake-Workspace picks a tenant only on routes that allow it.
  const tenants: TenantLookup | undefined = route.tenantHeader
    ? (nameOrId) => registry.tenantKeeper(route.client, route.region, nameOrId)
    : undefined;
  return mountRoute(route, mountPrefix, keeper, tenants);
}

/** Settings a running process cannot change: they need a restart (inbound's own: Inbound.reconfigure). */
export function changesNeedingRestart(before: ProxyConfig, after: ProxyConfig): string[] {
  const fixed: Array<[string, (c: ProxyConfig) => unknown]> = [
    ['listen', (c) => c.listen],
    ['admin', (c) => c.admin],
    ['caFile', (c) => c.caFile],
    ['timeouts.upstream*/inbound*/requestBodyHoldMs', (c) => [c.timeouts.upstreamConnectMs, c.timeouts.upstreamHeadersMs, c.timeouts.upstreamBodyMs, c.timeouts.inboundHeadersMs, c.timeouts.inboundIdleMs, c.timeouts.requestBodyHoldMs]],
    ['rateLimits.enabled', (c) => c.rateLimits.enabled],
    ['store', (c) => c.store],
  ];
  return fixed.filter(([, pick]) => JSON.stringify(pick(before)) !== JSON.stringify(pick(after))).map(([name]) => name);
}

export async function closeListener(listener: RouteListener, logger: Logger): Promise<void> {
  const closeIdle = setInterval(() => listener.app.server.closeIdleConnections(), 50);
  try {
    await listener.app.close();
  } catch (err) {
    logger.warn({ err: (err as Error).message, url: listener.url }, 'closing a listener failed');
  } finally {
    clearInterval(closeIdle);
  }
}
