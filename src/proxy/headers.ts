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

/** `token` undefined: a token request, which carries the caller's own credentials (callerCredential). */
export function upstreamHeaders(
  inbound: IncomingHttpHeaders,
  token: string | undefined,
  requestId: string,
  contentLength: number | undefined,
): HeaderValues {
  const out = passingHeaders(inbound, DROPPED_UPSTREAM);
  const authorization = token === undefined ? callerCredential(inbound.authorization) : `Bearer ${token}`;
  if (authorization !== undefined) out.authorization = authorization;
  out['x-request-id'] = requestId;
  if (contentLength !== undefined) out['content-length'] = String(contentLength);
  return out;
}

/**
 * What a token request may pass on: HTTP Basic client credentials (client_secret_basic). A
 * Bearer value is never passed: it is the caller's key or JWT for this proxy, or a stand-in.
 */
function callerCredential(authorization: string | undefined): string | undefined {
  return authorization !== undefined && /^basic /i.test(authorization) ? authorization : undefined;
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
 * Where a Location leads a client that resolves it against the URL it called (RFC 3986), so
 * that it keeps going through the proxy: absolute ones on the route's upstream and root-relative
 * ones (`/devices/v1/async-operations/ID`, GreenLake's async answers) are mapped from the
 * upstream's base path to the route's mount prefix. Other relative forms (`x`, `../x`, `?q`)
 * already resolve correctly, and a network-path `//host/x` names another host: those, absolute
 * URLs elsewhere and root-relative ones outside the base path pass unchanged.
 */
export function rewriteLocation(location: string, route: MountedRoute, proxyOrigin: string): string {
  if (location.startsWith('/')) return location.startsWith('//') ? location : rootRelative(location, route);
  const base = route.upstreamOrigin + route.upstreamBasePath;
  const rest = restUnder(location, base);
  return rest === undefined ? location : proxyOrigin + route.mountPrefix + rest;
}

/**
 * `/base/x` from an upstream https://h/base is the route's `<prefix>/x`. One outside the base
 * path stays as sent: it then resolves on the proxy's own origin (usually a 404 naming the
 * routes), never off the proxy, where the client would take its proxy credentials along.
 */
function rootRelative(location: string, route: MountedRoute): string {
  const rest = restUnder(location, route.upstreamBasePath);
  if (rest === undefined) return location;
  const mapped = route.mountPrefix + rest;
  return mapped.startsWith('/') ? mapped : `/${mapped}`;
}

/** What follows `base` in `location` at a path boundary (`/base` covers `/base/x`, `/base?q`, never `/basement`); undefined: not under it. */
function restUnder(location: string, base: string): string | undefined {
  if (!location.startsWith(base)) return undefined;
  const rest = location.slice(base.length);
  return rest === '' || '/?#'.includes(rest.charAt(0)) ? rest : undefined;
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
