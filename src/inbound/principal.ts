import { InboundError } from './errors.ts';

/** Who is calling, once a key or token has been accepted, and what they may use. */
export interface Principal {
  /** For the audit log: `key:<name>` or `jwt:<subject>`. Never the key or token. */
  readonly name: string;
  readonly clients: ReadonlySet<string>;
  /** Route names (prefix or `port:<n>`); undefined: every route of its clients. */
  readonly routes: ReadonlySet<string> | undefined;
  /** Undefined: every method. */
  readonly methods: ReadonlySet<string> | undefined;
  /** When the credential it was proven by expires (a JWT's exp), ms since the epoch; undefined: never (an API key). */
  readonly expiresAt?: number | undefined;
  /** May use the admin endpoints: an explicit grant (apiKeys[].admin, jwt.adminClaimValues), never implied by client access. */
  readonly admin: boolean;
}

/** Whether the principal may send `method` to `route`, whose token belongs to `client`. */
export function checkScope(principal: Principal, method: string, route: string, client: string): InboundError | undefined {
  if (!principal.clients.has(client)) return forbidden(principal, `client ${client}`);
  if (principal.routes !== undefined && !principal.routes.has(route)) return forbidden(principal, `route ${route}`);
  if (principal.methods !== undefined && !principal.methods.has(method)) return forbidden(principal, `method ${method}`);
  return undefined;
}

/** The admin endpoints (/-/status, /-/metrics, /-/quit, the status page) need the admin scope. */
export function checkAdminScope(principal: Principal): InboundError | undefined {
  if (principal.admin) return undefined;
  return new InboundError('GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED', `${principal.name} may not use the admin endpoints (they need apiKeys[].admin or jwt.adminClaimValues)`);
}

function forbidden(principal: Principal, what: string): InboundError {
  return new InboundError('GREENLAKE_PROXY_FORBIDDEN', `${principal.name} may not use ${what}`);
}
