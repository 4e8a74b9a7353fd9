/** Why the proxy refused a caller before forwarding anything. proxy/errors.ts maps each code to its HTTP status. */
export type InboundErrorCode =
  | 'GREENLAKE_PROXY_HOST_NOT_ALLOWED'
  | 'GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED'
  | 'GREENLAKE_PROXY_HEADER_REQUIRED'
  | 'GREENLAKE_PROXY_UNAUTHENTICATED'
  | 'GREENLAKE_PROXY_AUTH_UNAVAILABLE'
  | 'GREENLAKE_PROXY_FORBIDDEN'
  | 'GREENLAKE_PROXY_READ_ONLY'
  | 'GREENLAKE_PROXY_NOT_ALLOWED'
  | 'GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED'
  | 'GREENLAKE_PROXY_RATE_LIMITED';

export class InboundError extends Error {
  override readonly name = 'InboundError';
  readonly code: InboundErrorCode;

  constructor(code: InboundErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
  }
}

/**
 * A request refused by a rule: readOnly or allow (access.ts), or a key's or JWT's scope
 * (principal.ts). `refusedBy` names the rule's key for the log: `routes[/glp/global].readOnly`.
 */
export class AccessError extends InboundError {
  readonly refusedBy: string;

  constructor(code: 'GREENLAKE_PROXY_READ_ONLY' | 'GREENLAKE_PROXY_NOT_ALLOWED' | 'GREENLAKE_PROXY_FORBIDDEN', message: string, refusedBy: string) {
    super(code, message);
    this.refusedBy = refusedBy;
  }
}
