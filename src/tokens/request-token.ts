import { decodeJwt } from 'jose';
import type { Dispatcher } from 'undici';
import type { AuthMethod } from '../config/index.ts';
import { isCertificateError } from '../net/index.ts';
import { TokenError, type OAuthErrorBody } from './errors.ts';

export interface TokenRequest {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authMethod: AuthMethod;
  readonly timeoutMs: number;
  readonly dispatcher: Dispatcher;
  /** The grant's form parameters; default `grant_type=client_credentials`. Client authentication is added as authMethod says. */
  readonly grant?: Readonly<Record<string, string>> | undefined;
}

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** RFC 8693 form parameters: exchange `subjectToken` (an access token) for one from the endpoint it is sent to. */
export function tokenExchangeGrant(subjectToken: string): Record<string, string> {
  return { grant_type: TOKEN_EXCHANGE_GRANT, subject_token: subjectToken, subject_token_type: ACCESS_TOKEN_TYPE };
}

export type LifetimeSource = 'expires_in' | 'jwt_exp' | 'default';

export interface IssuedToken {
  readonly accessToken: string;
  /** Epoch ms. */
  readonly expiresAt: number;
  readonly lifetimeSource: LifetimeSource;
}

/** One OAuth 2.0 token call (client credentials, or the grant given). No retries here: the keeper owns retry policy. */
export async function requestToken(req: TokenRequest, defaultLifetimeMs: number): Promise<IssuedToken> {
  const sentAt = Date.now();
  const { statusCode, headers, text } = await post(req);
  if (statusCode !== 200) throw endpointError(statusCode, headers, text);
  return parseTokenAnswer(text, sentAt, defaultLifetimeMs);
}

async function post(req: TokenRequest): Promise<{ statusCode: number; headers: Record<string, unknown>; text: string }> {
  const form = new URLSearchParams(req.grant ?? { grant_type: 'client_credentials' });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (req.authMethod === 'client_secret_basic') {
    // RFC 6749 section 2.3.1: both parts are form-encoded before base64.
    const pair = `${formEncode(req.clientId)}:${formEncode(req.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
  } else {
    form.set('client_id', req.clientId);
    form.set('client_secret', req.clientSecret);
  }
  const url = new URL(req.tokenUrl);
  try {
    const res = await req.dispatcher.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method: 'POST',
      headers,
      body: form.toString(),
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    const text = await res.body.text();
    return { statusCode: res.statusCode, headers: res.headers, text };
  } catch (cause) {
    throw networkError(cause, req.timeoutMs);
  }
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function networkError(cause: unknown, timeoutMs: number): TokenError {
  const err = cause as { name?: string; code?: string };
  const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
  const what = timedOut
    ? `no answer within ${timeoutMs} ms`
    : isCertificateError(err.code)
      ? `certificate not trusted (${err.code})`
      : `unreachable (${err.code ?? err.name ?? 'error'})`;
  return new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', `token endpoint ${what}`, { retryable: true, cause });
}

function endpointError(status: number, headers: Record<string, unknown>, text: string): TokenError {
  const oauth = parseOAuthError(text);
  const retryable = status === 429 || status === 408 || status >= 500;
  const described = oauth ? `${oauth.error}${oauth.error_description ? `: ${oauth.error_description}` : ''}` : 'no OAuth error body';
  return new TokenError(
    retryable ? 'GREENLAKE_PROXY_TOKEN_UNAVAILABLE' : 'GREENLAKE_PROXY_TOKEN_REJECTED',
    `token endpoint answered ${status} (${described})`,
    { retryable, endpointStatus: status, ...(oauth && { oauth }), ...retryAfter(headers) },
  );
}

function parseOAuthError(text: string): OAuthErrorBody | undefined {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.error !== 'string') return undefined;
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    return { error: clip(body.error), ...(description !== undefined && { error_description: clip(description) }) };
  } catch {
    return undefined;
  }
}

function clip(s: string): string {
  return s.length > 300 ? `${s.slice(0, 300)}...` : s;
}

function retryAfter(headers: Record<string, unknown>): { retryAfterMs?: number } {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return {};
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return { retryAfterMs: seconds * 1000 };
  const date = Date.parse(value);
  return Number.isNaN(date) ? {} : { retryAfterMs: Math.max(0, date - Date.now()) };
}

function parseTokenAnswer(text: string, sentAt: number, defaultLifetimeMs: number): IssuedToken {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw malformed('the answer is not JSON');
  }
  const accessToken = body.access_token;
  if (typeof accessToken !== 'string' || accessToken.length === 0) throw malformed('no access_token in the answer');
  if (typeof body.token_type === 'string' && body.token_type.toLowerCase() !== 'bearer') {
    throw malformed(`token_type is not Bearer`);
  }
  const expiresIn = Number(body.expires_in);
  if (body.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) {
    // Counted from when the request was sent: never trust a token longer than the endpoint meant.
    return { accessToken, expiresAt: sentAt + expiresIn * 1000, lifetimeSource: 'expires_in' };
  }
  const exp = jwtExpiry(accessToken);
  if (exp !== undefined) return { accessToken, expiresAt: exp, lifetimeSource: 'jwt_exp' };
  return { accessToken, expiresAt: sentAt + defaultLifetimeMs, lifetimeSource: 'default' };
}

function jwtExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

function malformed(why: string): TokenError {
  return new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', `token endpoint answered 200 but ${why}`, {
    retryable: true,
    endpointStatus: 200,
  });
}
