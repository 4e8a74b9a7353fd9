import { findCatalogEntry, type CatalogEntry, type RouteConfig } from '../config/index.ts';
import { AccessRules } from '../inbound/index.ts';
import type { TokenKeeper } from '../tokens/index.ts';
import { ProxyError } from './errors.ts';

/** A configured route as one listener serves it. */
export interface MountedRoute {
  /** For logs, status and errors: the prefix, or `port:<n>`. */
  readonly name: string;
  /** Where the route starts on this listener: its prefix on the main listener, '' on its own port. */
  readonly mountPrefix: string;
  readonly upstreamOrigin: string;
  /** The upstream's host name, lower case. */
  readonly upstreamHost: string;
  /** The catalog's service for the route's prefix; undefined for a prefix (or port) not in the catalog. */
  readonly service: CatalogEntry['service'] | undefined;
  /** Path of the upstream URL before the forwarded path: '' or e.g. `/base`. */
  readonly upstreamBasePath: string;
  readonly config: RouteConfig;
  /** The route's token: its client's own, or its tenant's (routes[].tenant). */
  readonly keeper: TokenKeeper;
  /** With routes[].tenantHeader: the keeper of a tenant a caller names in X-GreenLake-Workspace; undefined: the header is refused. */
  readonly tenantKeeper: TenantLookup | undefined;
  /** routes[].readOnly and .allow, compiled; undefined: the route has none. */
  readonly rules: AccessRules | undefined;
}

/** A tenant of the route's client by name or workspace ID; undefined when there is none. */
export type TenantLookup = (nameOrId: string) => TokenKeeper | undefined;

export interface RouteMatch {
  readonly route: MountedRoute;
  /** Path and query to ask the upstream for, exactly as sent by the caller after the prefix. */
  readonly upstreamPath: string;
  /** Path and query within the route (after the prefix), as sent: allow rules match its path. */
  readonly rest: string;
  /** Whose token the request carries: the route's keeper, or the tenant's the caller picked (src/proxy/tenant.ts). */
  readonly keeper: TokenKeeper;
}

export function mountRoute(config: RouteConfig, mountPrefix: string, keeper: TokenKeeper, tenantKeeper?: TenantLookup): MountedRoute {
  const url = new URL(config.upstream);
  const name = config.prefix ?? `port:${config.port}`;
  return {
    name,
    mountPrefix,
    upstreamOrigin: url.origin,
    upstreamHost: url.hostname,
    service: config.prefix === undefined ? undefined : findCatalogEntry(config.prefix)?.service,
    upstreamBasePath: url.pathname === '/' ? '' : url.pathname,
    config,
    keeper,
    tenantKeeper,
    rules: AccessRules.of(config, `routes[${name}]`),
  };
}

/** Finds the route for a raw request target; never decodes what it forwards. */
export class RouteTable {
  #routes: readonly MountedRoute[] = [];

  constructor(routes: readonly MountedRoute[]) {
    this.replace(routes);
  }

  /** A reloaded configuration's routes: requests already matched keep the route they had. */
  replace(routes: readonly MountedRoute[]): void {
    this.#routes = [...routes].sort((a, b) => b.mountPrefix.length - a.mountPrefix.length);
  }

  get routes(): readonly MountedRoute[] {
    return this.#routes;
  }

  match(rawUrl: string): RouteMatch | undefined {
    if (!rawUrl.startsWith('/')) {
      throw new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', 'request target must be a path (origin-form), not an absolute URL');
    }
    const found = this.routeAt(rawUrl);
    if (found === undefined) return undefined;
    rejectPathEscapes(found.rest);
    return { route: found.route, upstreamPath: joinPath(found.route.upstreamBasePath, found.rest), rest: found.rest, keeper: found.route.keeper };
  }

  /** The route whose prefix `rawUrl` starts with, and what follows the prefix; no check of that rest. */
  routeAt(rawUrl: string): { readonly route: MountedRoute; readonly rest: string } | undefined {
    for (const route of this.#routes) {
      const rest = restAfterPrefix(rawUrl, route.mountPrefix);
      if (rest !== undefined) return { route, rest };
    }
    return undefined;
  }
}

function restAfterPrefix(rawUrl: string, prefix: string): string | undefined {
  if (!rawUrl.startsWith(prefix)) return undefined;
  const next = rawUrl.charAt(prefix.length);
  return next === '' || next === '/' || next === '?' ? rawUrl.slice(prefix.length) : undefined;
}

function joinPath(basePath: string, rest: string): string {
  if (rest === '' || rest.startsWith('?')) return `${basePath || '/'}${rest}`;
  return basePath + rest;
}

/** Characters after which a path needs a closer look; paths without them are forwarded at once. */
const SUSPICIOUS = /[%.#\\\x00-\x1f\x7f]/;
const CONTROL_CHARACTER = /[\x00-\x1f\x7f]/;

/**
 * A request may never climb out of its route. Refused rather than normalised: dot segments in
 * any percent-encoding, with slashes or backslashes raw or encoded, with `;params` (`..;/`, which
 * some servers read as `..`) or in look-alike Unicode; a leading `//` (a reference to another host
 * for anything resolving it as a URL); a raw `#` (servers disagree on where the path ends); and
 * control characters such as encoded CR/LF.
 */
function rejectPathEscapes(rest: string): void {
  const queryAt = rest.indexOf('?');
  const path = queryAt === -1 ? rest : rest.slice(0, queryAt);
  if (!SUSPICIOUS.test(path) && !path.startsWith('//')) return;
  if (path.includes('#')) throw badPath('path must not contain a raw # (send it as %23)');
  const decoded = decodeTwice(path).normalize('NFKC').replaceAll('\\', '/');
  if (CONTROL_CHARACTER.test(decoded)) throw badPath('path must not contain control characters (such as CR, LF or NUL), raw or percent-encoded');
  if (decoded.startsWith('//')) throw badPath('path after the route prefix must not start with // (a reference to another host)');
  if (decoded.split('/').some(isDotSegment)) throw badPath('path must not contain dot segments (. or ..), raw or percent-encoded');
}

function isDotSegment(segment: string): boolean {
  const name = segment.split(';', 1)[0];
  return name === '.' || name === '..';
}

function badPath(message: string): ProxyError {
  return new ProxyError('GREENLAKE_PROXY_BAD_PATH', message);
}

/**
 * Twice, because some upstreams decode twice: `%252e%252e` must not become `..` behind our back.
 * Percent bytes that are not UTF-8 (`%E9`, Latin-1) decode to U+FFFD here: paths are opaque, and
 * such a byte is no dot, slash or control character; it is forwarded as sent.
 */
function decodeTwice(path: string): string {
  let out = path;
  for (let i = 0; i < 2 && out.includes('%'); i++) {
    if (MALFORMED_PERCENT.test(out)) throw badPath('path has a malformed percent-encoding');
    out = out.replace(PERCENT_RUN, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
  }
  return out;
}

const MALFORMED_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
