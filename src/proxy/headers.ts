import type { IncomingHttpHeaders } from 'node:http';
import type { MountedRoute } from './route-table.ts';

/** Never forwarded upstream: hop-by-hop headers, and the caller's own credentials. */
const DROPPED_UPSTREAM = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'content-length',
  'authorization',
  'x-api-key',
  'cookie',
  'x-request-id',
  // MSP mode: the proxy's own choice of tenant (tenant.ts), never GreenLake's business.
  'x-greenlake-workspace',
  // Method overrides: an upstream honouring one would turn a GET-only key's GET into a DELETE.
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

/** Never passed back to the caller: hop-by-hop headers of the upstream connection. */
const DROPPED_DOWNSTREAM = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
]);

export type HeaderValues = Record<string, string | string[]>;

export function upstreamHeaders(
  inbound: IncomingHttpHeaders,
  token: string,
  requestId: string,
  contentLength: number | undefined,
): HeaderValues {
  const out = passingHeaders(inbound, DROPPED_UPSTREAM);
  out.authorization = `Bearer ${token}`;
  out['x-request-id'] = requestId;
  if (contentLength !== undefined) out['content-length'] = String(contentLength);
  return out;
}

export function downstreamHeaders(
  upstream: Record<string, string | string[] | undefined>,
  route: MountedRoute,
  proxyOrigin: string,
  requestId: string,
): HeaderValues {
  const out = passingHeaders(upstream, DROPPED_DOWNSTREAM);
  if (typeof out.location === 'string') out.location = rewriteLocation(out.location, route, proxyOrigin);
  out['x-request-id'] = requestId;
  return out;
}

/**
 * Relative locations pass unchanged; absolute ones on the route's upstream point back
 * at the proxy, so a client following them keeps going through it.
 */
export function rewriteLocation(location: string, route: MountedRoute, proxyOrigin: string): string {
  const base = route.upstreamOrigin + route.upstreamBasePath;
  if (!location.startsWith(base)) return location;
  const rest = location.slice(base.length);
  if (rest !== '' && !'/?#'.includes(rest.charAt(0))) return location;
  return proxyOrigin + route.mountPrefix + rest;
}

/**
 * The headers that pass a hop: all but `dropped` and those the Connection header names.
 * Hot path (twice per request): no entries array, and no Set for the usual Connection values.
 */
function passingHeaders(headers: Record<string, string | string[] | undefined>, dropped: ReadonlySet<string>): HeaderValues {
  const named = connectionNamed(headers.connection);
  const out: HeaderValues = {};
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (value === undefined || dropped.has(name) || (named !== undefined && named.includes(name))) continue;
    out[name] = value;
  }
  return out;
}

/** The header names a Connection value lists, lower-cased; `keep-alive` and `close`, by far the most common values, cost no parsing. */
function connectionNamed(connection: string | string[] | undefined): readonly string[] | undefined {
  if (typeof connection !== 'string' || connection === '') return undefined;
  if (connection === 'keep-alive') return KEEP_ALIVE;
  if (connection === 'close') return CLOSE;
  return connection.split(',').map((s) => s.trim().toLowerCase());
}

const KEEP_ALIVE: readonly string[] = ['keep-alive'];
const CLOSE: readonly string[] = ['close'];
