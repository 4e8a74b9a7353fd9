import { decodeJwt } from 'jose';
import type { Dispatcher } from 'undici';
import type { AuthMethod, BasicEncoding } from '../config/index.ts';
import { isCertificateError } from '../net/index.ts';
import { TokenError, type OAuthErrorBody } from './errors.ts';

export interface TokenRequest {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authMethod: AuthMethod;
  readonly timeoutMs: number;
  readonly dispatcher: Dispatcher;
  /** client_secret_basic: form-encode ID and secret before base64 (default, RFC 6749 2.3.1), or send them raw. */
  readonly basicEncoding?: BasicEncoding | undefined;
  /** The grant's form parameters; default `grant_type=client_credentials`. Client authentication is added as authMethod says. */
  readonly grant?: Readonly<Record<string, string>> | undefined;
  /** Sent after the grant and the credentials (scope, audience, resource, clients[].tokenParams); checked by the config never to override them. */
  readonly params?: Readonly<Record<string, string>> | undefined;
}

/** More than any token answer needs (GreenLake's are about 2 KiB): a bigger or endless answer is cut off, not buffered. */
export const MAX_TOKEN_ANSWER_BYTES = 64 * 1024;
/** A token said to live longer is taken to live this long: keeps every date finite and printable. */
export const MAX_TOKEN_LIFETIME_MS = 365 * 24 * 3600 * 1000;
/** A longer Retry-After from a token endpoint is honoured for this long, then the keeper tries again. */
export const MAX_RETRY_AFTER_MS = 3600 * 1000;

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
  if (statusCode !== 200) throw endpointError(statusCode, headers, text, secretsOf(req));
  return parseTokenAnswer(text, sentAt, defaultLifetimeMs);
}

async function post(req: TokenRequest): Promise<{ statusCode: number; headers: Record<string, unknown>; text: string }> {
  const form = new URLSearchParams(req.grant ?? { grant_type: 'client_credentials' });
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (req.authMethod === 'client_secret_basic') {
    headers.authorization = `Basic ${basicCredentials(req)}`;
  } else {
    form.set('client_id', req.clientId);
    form.set('client_secret', req.clientSecret);
  }
  for (const [name, value] of Object.entries(req.params ?? {})) form.append(name, value);
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
    const text = await readCapped(res.body, res.headers, MAX_TOKEN_ANSWER_BYTES);
    return { statusCode: res.statusCode, headers: res.headers, text };
  } catch (cause) {
    if (cause instanceof TokenError) throw cause;
    throw networkError(cause, req.timeoutMs);
  }
}

/** RFC 6749 section 2.3.1: both parts form-encoded before base64, unless the endpoint wants them raw (RFC 7617). */
function basicCredentials(req: TokenRequest): string {
  const raw = req.basicEncoding === 'raw';
  const pair = raw ? `${req.clientId}:${req.clientSecret}` : `${formEncode(req.clientId)}:${formEncode(req.clientSecret)}`;
  return Buffer.from(pair).toString('base64');
}

/**
 * The answer's text, at most `maxBytes` of it: past that the body is destroyed (undici then
 * closes the connection) and a TokenError says so. Nothing beyond the cap is held in memory.
 */
async function readCapped(body: Dispatcher.ResponseData['body'], headers: Record<string, unknown>, maxBytes: number): Promise<string> {
  const tooLarge = (): TokenError => {
    body.destroy();
    return new TokenError('GREENLAKE_PROXY_TOKEN_UNAVAILABLE', `token endpoint answer is larger than ${maxBytes / 1024} KiB: not read further`, {
      retryable: true,
    });
  };
  if (Number(headers['content-length']) > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

/** Every form in which a request's secrets could come back in an endpoint's error text. */
function secretsOf(req: TokenRequest): string[] {
  const values = [req.clientSecret, req.grant?.['subject_token'] ?? ''].filter((value) => value !== '');
  const forms = values.flatMap((value) => [
    value,
    formEncode(value),
    encodeURIComponent(value),
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
  ]);
  forms.push(basicCredentials({ ...req, basicEncoding: 'form' }), basicCredentials({ ...req, basicEncoding: 'raw' }));
  // Longest first: a form containing another is cut whole.
  return [...new Set(forms)].sort((a, b) => b.length - a.length);
}

/** `text` with every occurrence of each secret cut out. */
function redact(text: string, secrets: readonly string[]): string {
  return secrets.reduce((out, secret) => out.replaceAll(secret, '[redacted]'), text);
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

function endpointError(status: number, headers: Record<string, unknown>, text: string, secrets: readonly string[]): TokenError {
  const oauth = parseOAuthError(text, secrets);
  const retryable = status === 429 || status === 408 || status >= 500;
  const described = oauth ? `${oauth.error}${oauth.error_description ? `: ${oauth.error_description}` : ''}` : 'no OAuth error body';
  return new TokenError(
    retryable ? 'GREENLAKE_PROXY_TOKEN_UNAVAILABLE' : 'GREENLAKE_PROXY_TOKEN_REJECTED',
    `token endpoint answered ${status} (${described})`,
    { retryable, endpointStatus: status, ...(oauth && { oauth }), ...retryAfter(headers) },
  );
}

/** The OAuth error of an answer, each secret cut out before clipping (a clipped secret would show its start). */
function parseOAuthError(text: string, secrets: readonly string[]): OAuthErrorBody | undefined {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body.error !== 'string') return undefined;
    const description = typeof body.error_description === 'string' ? body.error_description : undefined;
    const shown = (value: string): string => clip(redact(value, secrets));
    return { error: shown(body.error), ...(description !== undefined && { error_description: shown(description) }) };
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
  if (Number.isFinite(seconds) && seconds >= 0) return { retryAfterMs: Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) };
  const date = Date.parse(value);
  return Number.isNaN(date) ? {} : { retryAfterMs: Math.min(Math.max(0, date - Date.now()), MAX_RETRY_AFTER_MS) };
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
    return { accessToken, expiresAt: sentAt + Math.min(expiresIn * 1000, MAX_TOKEN_LIFETIME_MS), lifetimeSource: 'expires_in' };
  }
  const exp = jwtExpiry(accessToken);
  if (exp !== undefined) return { accessToken, expiresAt: Math.min(exp, sentAt + MAX_TOKEN_LIFETIME_MS), lifetimeSource: 'jwt_exp' };
  return { accessToken, expiresAt: sentAt + defaultLifetimeMs, lifetimeSource: 'default' };
}

function jwtExpiry(token: string): number | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
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
