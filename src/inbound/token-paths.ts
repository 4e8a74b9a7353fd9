/** GreenLake's token endpoint paths, which tools build from a base URL that may be this proxy. */
const CLASSIC_TOKEN_PATH = '/as/token.oauth2';
const WORKSPACE_TOKEN_PATH = /^\/authorization\/v2\/oauth2\/[^/]+\/token$/;
const ENDS_IN_WORKSPACE_TOKEN_PATH = /\/authorization\/v2\/oauth2\/[^/]+\/token$/;

const MAY_BE_TOKEN_PATH = /token|%/i;

/** The main listener's own token endpoint, beside the per-route ones. */
export const LOCAL_TOKEN_ENDPOINT = '/-/oauth/token';

/** Whether `rawUrl` after its first `prefixLength` characters (a route's prefix) is exactly one of GreenLake's token paths. */
export function isLocalTokenPath(rawUrl: string, prefixLength = 0): boolean {
  // Hot path (every request on a route): a test without allocation first.
  const pathEnd = queryStart(rawUrl);
  if (!rawUrl.endsWith('/token', pathEnd) && !rawUrl.endsWith('/token.oauth2', pathEnd)) return false;
  const path = pathOf(rawUrl).slice(prefixLength);
  return path === CLASSIC_TOKEN_PATH || WORKSPACE_TOKEN_PATH.test(path);
}

function queryStart(rawUrl: string): number {
  const queryAt = rawUrl.indexOf('?');
  return queryAt === -1 ? rawUrl.length : queryAt;
}

/**
 * Whether a path leads to a token endpoint anywhere in it (`/base/as/token.oauth2` too), read
 * generously (percent-decoded, any case): such a request carries the caller's own credentials,
 * and the proxy neither adds its token nor reads a 401 as a verdict on it.
 */
export function isTokenEndpointPath(pathAndQuery: string): boolean {
  // Hot path (every forwarded request): one regex, no allocation, for the paths that cannot be one.
  if (!MAY_BE_TOKEN_PATH.test(pathAndQuery)) return false;
  const path = decodedOnce(pathOf(pathAndQuery)).toLowerCase();
  return path.endsWith(CLASSIC_TOKEN_PATH) || ENDS_IN_WORKSPACE_TOKEN_PATH.test(path) || path === LOCAL_TOKEN_ENDPOINT;
}

function pathOf(pathAndQuery: string): string {
  const queryAt = pathAndQuery.indexOf('?');
  return queryAt === -1 ? pathAndQuery : pathAndQuery.slice(0, queryAt);
}

function decodedOnce(path: string): string {
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
