import type { IncomingHttpHeaders } from 'node:http';
import { ProxyError } from './errors.ts';
import type { RouteMatch } from './route-table.ts';

/** A caller picks a tenant workspace (MSP mode) by name or workspace ID; never forwarded upstream (headers.ts). */
export const TENANT_HEADER = 'x-greenlake-workspace';

const SHOWN_MAX = 100;

/**
 * The match with the keeper whose token the request carries. Without the header: the route's
 * own. With it: the named tenant's, only on a route with tenantHeader. A header the route does
 * not allow is refused rather than ignored: a caller who believes it acts on tenant X must never
 * silently act on another workspace.
 */
export function withTenant(match: RouteMatch, headers: IncomingHttpHeaders): RouteMatch {
  const value = headers[TENANT_HEADER];
  if (value === undefined) return match;
  const { route } = match;
  if (route.tenantKeeper === undefined) {
    throw new ProxyError(
      'GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED',
      `route ${route.name} does not let callers pick a workspace: send no X-GreenLake-Workspace header here, or allow it with routes[].tenantHeader`,
    );
  }
  const wanted = (Array.isArray(value) ? value.join(',') : value).trim();
  if (wanted === '' || wanted.includes(',')) {
    throw new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', 'X-GreenLake-Workspace must name one tenant: its name or workspace ID');
  }
  const keeper = route.tenantKeeper(wanted);
  if (keeper === undefined) {
    const shown = wanted.length > SHOWN_MAX ? `${wanted.slice(0, SHOWN_MAX)}...` : wanted;
    throw new ProxyError(
      'GREENLAKE_PROXY_TENANT_UNKNOWN',
      `X-GreenLake-Workspace: client ${route.config.client} has no tenant named ${JSON.stringify(shown)} (clients[].tenants: name or workspaceId)`,
    );
  }
  return { ...match, keeper };
}
