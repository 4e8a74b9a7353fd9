import type { BudgetRefusal } from '../budget/index.ts';
import { isCertificateError } from '../net/index.ts';
import { AccessError, InboundError, type InboundErrorCode } from '../inbound/index.ts';
import { TokenError, type TokenErrorCode } from '../tokens/index.ts';

/**
 * Every error the proxy answers by itself, in one place: its stable code and HTTP status.
 * Upstream answers (including upstream errors) are passed through untouched, never through here.
 */
const STATUS_BY_CODE = {
  GREENLAKE_PROXY_ROUTE_NOT_FOUND: 404,
  GREENLAKE_PROXY_BAD_PATH: 400,
  GREENLAKE_PROXY_BAD_REQUEST: 400,
  /** X-GreenLake-Workspace on a route without tenantHeader: refused, never ignored (the caller meant another workspace). */
  GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED: 400,
  GREENLAKE_PROXY_UNAUTHENTICATED: 401,
  GREENLAKE_PROXY_HOST_NOT_ALLOWED: 403,
  GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED: 403,
  GREENLAKE_PROXY_FORBIDDEN: 403,
  /** A write (POST, PUT, PATCH, DELETE) on a read-only route, or by a read-only key or JWT. */
  GREENLAKE_PROXY_READ_ONLY: 403,
  /** A method and path that no allow rule of the route, key or JWT permits. */
  GREENLAKE_PROXY_NOT_ALLOWED: 403,
  /** Admin endpoints (/-/status, /-/metrics, /-/quit, /-/) under a key or JWT without the admin scope. */
  GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED: 403,
  /** X-GreenLake-Workspace names no tenant of the route's client: the proxy acts on no workspace it was not given. */
  GREENLAKE_PROXY_TENANT_UNKNOWN: 403,
  /** TRACE, QUERY, CONNECT, PROPFIND...: only GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS are forwarded. */
  GREENLAKE_PROXY_METHOD_NOT_ALLOWED: 405,
  GREENLAKE_PROXY_REQUEST_TIMEOUT: 408,
  GREENLAKE_PROXY_HEADER_REQUIRED: 412,
  GREENLAKE_PROXY_EXPECTATION_FAILED: 417,
  GREENLAKE_PROXY_RATE_LIMITED: 429,
  /** The GreenLake budget of an API (for this client or tenant) is used up for longer than rateLimits.maxWaitMs (src/budget). */
  GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED: 429,
  GREENLAKE_PROXY_HEADERS_TOO_LARGE: 431,
  GREENLAKE_PROXY_UPSTREAM_UNREACHABLE: 502,
  GREENLAKE_PROXY_UPSTREAM_TLS: 502,
  /** The upstream answered, but not with HTTP a proxy can pass on: an unsolicited 100 or 101, broken framing. */
  GREENLAKE_PROXY_UPSTREAM_BAD_ANSWER: 502,
  GREENLAKE_PROXY_UPSTREAM_TIMEOUT: 504,
  GREENLAKE_PROXY_TOKEN_REJECTED: 502,
  GREENLAKE_PROXY_TOKEN_UNAVAILABLE: 502,
  GREENLAKE_PROXY_SECRET_UNREADABLE: 502,
  GREENLAKE_PROXY_TOKEN_TIMEOUT: 504,
  GREENLAKE_PROXY_SHUTTING_DOWN: 503,
  GREENLAKE_PROXY_AUTH_UNAVAILABLE: 503,
  GREENLAKE_PROXY_INTERNAL: 500,
  /** A Transfer-Encoding other than chunked. */
  GREENLAKE_PROXY_NOT_IMPLEMENTED: 501,
} as const satisfies Record<string, number> & Record<TokenErrorCode, number> & Record<InboundErrorCode, number>;

export type ProxyErrorCode = keyof typeof STATUS_BY_CODE;

export interface ErrorDetail {
  readonly type: string;
  readonly [key: string]: unknown;
}

export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  readonly code: ProxyErrorCode;
  readonly statusCode: number;
  readonly details: readonly ErrorDetail[];
  /** Sent as `Retry-After`: when trying again may succeed. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ProxyErrorCode, message: string, options: { details?: ErrorDetail[]; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.statusCode = STATUS_BY_CODE[code];
    this.details = options.details ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** GreenLake's error shape, so callers parse the proxy's errors like the platform's own. */
export interface GreenLakeErrorBody {
  readonly httpStatusCode: number;
  readonly errorCode: string;
  readonly message: string;
  readonly debugId: string;
  readonly errorDetails?: readonly ErrorDetail[];
}

/** The fields Data Services v1 clients read from an error (DSCC OpenAPI `Error`). */
export interface DsccErrorFields {
  readonly error: string;
  readonly traceId: string;
}

/** GreenLake's shape always; `dscc`: with DSCC's `error` and `traceId` too (its `errorCode` is the same field). */
export function errorBody(err: ProxyError, requestId: string, dscc = false): GreenLakeErrorBody | (GreenLakeErrorBody & DsccErrorFields) {
  const body: GreenLakeErrorBody = {
    httpStatusCode: err.statusCode,
    errorCode: err.code,
    message: err.message,
    debugId: requestId,
    ...(err.details.length > 0 && { errorDetails: err.details }),
  };
  return dscc ? { ...body, error: err.message, traceId: requestId } : body;
}

/** The budget's refusal as the proxy's own 429 (forward.ts adds Retry-After). */
export function fromBudgetRefusal(refusal: BudgetRefusal): ProxyError {
  const { key, resetAt, retryAfterSeconds: seconds, maxWaitMs } = refusal;
  const tenant = key.tenant === undefined ? '' : ` in tenant ${JSON.stringify(key.tenant)}`;
  return new ProxyError(
    'GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED',
    `the GreenLake rate limit of API client ${JSON.stringify(key.client)}${tenant} for ${key.method} ${key.path} is used up until ${resetAt} (in ${seconds} s), ` +
      `longer than requests may wait (rateLimits.maxWaitMs ${maxWaitMs}): not sent upstream; retry after ${seconds} s`,
    {
      details: [
        {
          type: 'rate_limit',
          client: key.client,
          ...(key.tenant !== undefined && { tenant: key.tenant }),
          api: `${key.method} ${key.path}`,
          resetAt,
          retryAfterSeconds: seconds,
        },
      ],
    },
  );
}

export function fromTokenError(err: TokenError): ProxyError {
  const details: ErrorDetail[] = [];
  if (err.oauth) details.push({ type: 'oauth', ...err.oauth });
  if (err.endpointStatus !== undefined) details.push({ type: 'token_endpoint', status: err.endpointStatus });
  // The keeper is cooling down after a failed round: the caller may come back when it tries again.
  const retryAfter = err.nextAttemptInMs === undefined ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(err.nextAttemptInMs / 1000)) };
  return new ProxyError(err.code, `could not get a token: ${err.message}`, { details, cause: err, ...retryAfter });
}

export function fromInboundError(err: InboundError): ProxyError {
  const details = err instanceof AccessError ? [{ type: 'access', refusedBy: err.refusedBy }] : [];
  return new ProxyError(err.code, err.message, { cause: err.cause, details });
}

/** Node's parser refused the request before any route saw it (the connection is closed after the answer). */
export function fromClientError(err: { code?: string | undefined }): ProxyError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ProxyError('GREENLAKE_PROXY_HEADERS_TOO_LARGE', 'request line and headers are larger than inbound.maxHeaderBytes');
    case 'HPE_INVALID_TRANSFER_ENCODING':
      return new ProxyError('GREENLAKE_PROXY_NOT_IMPLEMENTED', 'Transfer-Encoding other than chunked is not supported');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ProxyError('GREENLAKE_PROXY_REQUEST_TIMEOUT', 'the request headers did not arrive within timeouts.inboundHeadersMs');
    default:
      return new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', `malformed HTTP request (${err.code ?? 'parse error'})`);
  }
}

const TIMEOUT_ERROR_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** An error from talking to the upstream, as the caller should see it. */
export function fromUpstreamError(cause: unknown, upstream: string): ProxyError {
  if (cause instanceof ProxyError) return cause;
  if (cause instanceof TokenError) return fromTokenError(cause);
  const code = (cause as { code?: string } | undefined)?.code ?? 'unknown';
  if (isCertificateError(code)) {
    return new ProxyError('GREENLAKE_PROXY_UPSTREAM_TLS', `certificate of ${upstream} not trusted (${code})`, { cause });
  }
  if (TIMEOUT_ERROR_CODES.has(code)) {
    return new ProxyError('GREENLAKE_PROXY_UPSTREAM_TIMEOUT', `${upstream} did not answer in time (${code})`, { cause });
  }
  if (isBadAnswer(cause, code)) {
    return new ProxyError('GREENLAKE_PROXY_UPSTREAM_BAD_ANSWER', `${upstream} answered with something that is not a valid HTTP answer (${badAnswerReason(cause, code)})`, { cause });
  }
  return new ProxyError('GREENLAKE_PROXY_UPSTREAM_UNREACHABLE', `${upstream} unreachable (${code})`, { cause });
}

/**
 * undici's words for an answer that arrived but cannot be passed on: a parser error, a body
 * longer or shorter than its Content-Length, an unsolicited 100 Continue ('bad response') or
 * 101 ('bad upgrade').
 */
function isBadAnswer(cause: unknown, code: string): boolean {
  if ((cause as { name?: unknown } | undefined)?.name === 'HTTPParserError') return true;
  if (code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return true;
  const message = (cause as { message?: unknown } | undefined)?.message;
  return code === 'UND_ERR_SOCKET' && (message === 'bad response' || message === 'bad upgrade');
}

function badAnswerReason(cause: unknown, code: string): string {
  if (code !== 'unknown' && code !== 'UND_ERR_SOCKET') return code;
  const message = (cause as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' ? message.slice(0, 100) : code;
}
