/** GreenLake's token endpoint paths, which tools build from a base URL that may be this proxy. */
const CLASSIC_TOKEN_PATH = '/as/token.oauth2';
const WORKSPACE_TOKEN_PATH = /^\/authorization\/v2\/oauth2\/[^/]+\/token$/;
const ENDS_IN_WORKSPACE_TOKEN_PATH = /\/authorization\/v2\/oauth2\/[^/]+\/token$/;

const MAY_BE_TOKEN_PATH = /token|%/i;

/** The main listener's own token endpoint, beside the per-route ones. */
export const LOCAL_TOKEN_ENDPOINT = '/-/oauth/token';

/** A path (after a route's prefix) the local token endpoint answers: exactly one of GreenLake's token paths. */
export function isLocalTokenPath(pathAndQuery: string): boolean {
  const path = pathOf(pathAndQuery);
  return path === CLASSIC_TOKEN_PATH || WORKSPACE_TOKEN_PATH.test(path);
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
