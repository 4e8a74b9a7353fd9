import type { AccessRules } from './access.ts';
import { AccessError, InboundError } from './errors.ts';

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
  /** Where its scope is configured, for the log's refusedBy: `inbound.apiKeys[ci]`, `inbound.jwt`. */
  readonly configPath?: string | undefined;
  /** readOnly and allow rules (apiKeys[], jwt.access); undefined: none, every method and path of its scope. */
  readonly access?: readonly AccessGrant[] | undefined;
}

/**
 * Rules for what the principal may do with some of its clients: an API key has one grant for all
 * of them; a JWT one per claim value it holds, for the clients that value maps to.
 */
export interface AccessGrant {
  /** undefined: every client of the principal. */
  readonly clients: ReadonlySet<string> | undefined;
  /** undefined: that grant has no rules. */
  readonly rules: AccessRules | undefined;
  /** Which grant, in messages: `groups agents` (the claim and its value); undefined for an API key. */
  readonly label?: string | undefined;
}

/**
 * Whether the principal's rules let `method` reach `path` on `route`, whose token belongs to
 * `client`: one grant for that client permitting it is enough (a JWT holder's claim values each
 * add rights, as they add clients); with none, the first grant's refusal is the answer.
 */
export function checkAccess(principal: Principal, method: string, pathAndQuery: string, route: string, client: string): AccessError | undefined {
  if (principal.access === undefined) return undefined;
  let refusal: AccessError | undefined;
  for (const grant of principal.access) {
    if (grant.clients !== undefined && !grant.clients.has(client)) continue;
    const who = `${principal.name}${grant.label === undefined ? '' : ` (${grant.label})`}`;
    const outcome = grant.rules?.check(method, pathAndQuery, who, ` on route ${route}`);
    if (outcome === undefined) return undefined;
    refusal ??= outcome;
  }
  return refusal;
}

/** Whether the principal may send `method` to `route`, whose token belongs to `client`. */
export function checkScope(principal: Principal, method: string, route: string, client: string): InboundError | undefined {
  if (!principal.clients.has(client)) return forbidden(principal, `client ${client}`, 'clients');
  if (principal.routes !== undefined && !principal.routes.has(route)) return forbidden(principal, `route ${route}`, 'routes');
  if (principal.methods !== undefined && !principal.methods.has(method)) return forbidden(principal, `method ${method}`, 'methods');
  return undefined;
}

/** The admin endpoints (/-/status, /-/metrics, /-/quit, the status page) need the admin scope. */
export function checkAdminScope(principal: Principal): InboundError | undefined {
  if (principal.admin) return undefined;
  return new InboundError('GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED', `${principal.name} may not use the admin endpoints (they need apiKeys[].admin or jwt.adminClaimValues)`);
}

function forbidden(principal: Principal, what: string, key: string): InboundError {
  const message = `${principal.name} may not use ${what}`;
  if (principal.configPath === undefined) return new InboundError('GREENLAKE_PROXY_FORBIDDEN', message);
  return new AccessError('GREENLAKE_PROXY_FORBIDDEN', message, `${principal.configPath}.${key}`);
}
