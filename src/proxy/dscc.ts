import type { MountedRoute, RouteTable } from './route-table.ts';

const DSCC_V1_PATH = /^\/api\/v1(?:[/?]|$)/;
const DSCC_HOST_SUFFIX = '.data.cloud.hpe.com';

/**
 * Whether the proxy's own errors for this request also carry the Data Services v1 fields
 * (`error`, `errorCode`, `traceId`): on a route of the catalog's `dscc` service, on a DSCC zone
 * host (`*.data.cloud.hpe.com`, whatever its prefix), or when the path after the route's
 * prefix (with the upstream's base path) is the DSCC v1 API (`/api/v1/...`, which neither the platform nor COM uses).
 */
export function speaksDscc(route: MountedRoute, upstreamPath: string): boolean {
  return route.service === 'dscc' || route.upstreamHost.endsWith(DSCC_HOST_SUFFIX) || DSCC_V1_PATH.test(upstreamPath);
}

/** For an error raised before a route was chosen (authentication, a refused path): the route the URL would reach, if any. */
export function urlSpeaksDscc(table: RouteTable, rawUrl: string): boolean {
  const found = rawUrl.startsWith('/') ? table.routeAt(rawUrl) : undefined;
  return found !== undefined && speaksDscc(found.route, found.route.upstreamBasePath + found.rest);
}
