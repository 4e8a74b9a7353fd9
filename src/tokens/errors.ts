/**
 * Why a token could not be had. The codes are stable: scripts and the proxy's error
 * mapping (src/proxy/errors.ts) match on them.
 */
export type TokenErrorCode =
  /** The token endpoint refused the credentials or the request (OAuth 4xx, e.g. invalid_client). Not retried. */
  | 'GREENLAKE_PROXY_TOKEN_REJECTED'
  /** The endpoint was unreachable, slow, answered 5xx/429 or something that is not a token, after every retry. */
  | 'GREENLAKE_PROXY_TOKEN_UNAVAILABLE'
  /** The request waited longer than `timeouts.tokenWaitMs` for a token. */
  | 'GREENLAKE_PROXY_TOKEN_TIMEOUT'
  /** The client secret could not be read (clientSecretFile). */
  | 'GREENLAKE_PROXY_SECRET_UNREADABLE';

export interface OAuthErrorBody {
  readonly error: string;
  readonly error_description?: string;
}

export class TokenError extends Error {
  override readonly name = 'TokenError';
  readonly code: TokenErrorCode;
  /** Worth asking again soon: network failures, timeouts, 5xx, 429, malformed answers. */
  readonly retryable: boolean;
  /** The token endpoint's HTTP status, when it answered. */
  readonly endpointStatus: number | undefined;
  /** The OAuth error the endpoint gave, e.g. `{ error: 'invalid_client' }`. */
  readonly oauth: OAuthErrorBody | undefined;
  /** From a `Retry-After` header. */
  readonly retryAfterMs: number | undefined;
  /** Set when the keeper is cooling down after a failed round: when it tries again (the caller's Retry-After). */
  readonly nextAttemptInMs: number | undefined;

  constructor(
    code: TokenErrorCode,
    message: string,
    details: {
      retryable?: boolean;
      endpointStatus?: number;
      oauth?: OAuthErrorBody;
      retryAfterMs?: number;
      nextAttemptInMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
    this.code = code;
    this.retryable = details.retryable ?? false;
    this.endpointStatus = details.endpointStatus;
    this.oauth = details.oauth;
    this.retryAfterMs = details.retryAfterMs;
    this.nextAttemptInMs = details.nextAttemptInMs;
  }
}
