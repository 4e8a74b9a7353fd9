import type { IncomingMessage } from 'node:http';
import { HTTP_METHODS } from '../config/index.ts';
import { ProxyError } from './errors.ts';

/**
 * The methods forwarded: GreenLake's APIs use no other. TRACE would echo the bearer token
 * back to the caller; QUERY, PROPFIND and the rest reach no one.
 */
const FORWARDED_METHODS: ReadonlySet<string> = new Set(HTTP_METHODS);
export const ALLOWED_METHODS = HTTP_METHODS.join(', ');

/**
 * What the request line and framing headers must look like before anything else looks at the
 * request (Node's parser accepts more than a proxy should pass on): one of the forwarded methods,
 * no transfer coding but chunked, exactly one Host header on HTTP/1.1.
 */
export function checkRequestHead(req: IncomingMessage): ProxyError | undefined {
  if (!FORWARDED_METHODS.has(req.method ?? '')) return methodNotAllowed(req.method ?? '');
  const codings = req.headers['transfer-encoding'];
  if (codings !== undefined && codings.trim().toLowerCase() !== 'chunked') return transferCodingNotImplemented();
  return checkHostHeaders(req);
}

export function methodNotAllowed(method: string): ProxyError {
  const shown = method.length > 32 ? `${method.slice(0, 32)}...` : method;
  return new ProxyError('GREENLAKE_PROXY_METHOD_NOT_ALLOWED', `method ${shown} is not forwarded; allowed: ${ALLOWED_METHODS}`);
}

export function transferCodingNotImplemented(): ProxyError {
  return new ProxyError('GREENLAKE_PROXY_NOT_IMPLEMENTED', 'Transfer-Encoding other than chunked is not supported');
}

/** Node keeps the first of two Host headers and drops the other: which one a hop reads is how requests get smuggled past Host checks. */
function checkHostHeaders(req: IncomingMessage): ProxyError | undefined {
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts += 1;
  }
  if (hosts > 1) return new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', 'more than one Host header');
  if (hosts === 0 && req.httpVersion === '1.1') return new ProxyError('GREENLAKE_PROXY_BAD_REQUEST', 'an HTTP/1.1 request needs a Host header');
  return undefined;
}

/**
 * For the router only: a path whose percent bytes are not UTF-8 (`%E9`) is valid HTTP, but
 * Fastify's router cannot decode it and would answer 400. The router gets the path with its
 * `%` escaped; the onRequest hook puts the caller's target back (`restoreTarget`), and that
 * is what is matched and forwarded, as sent.
 */
export function routableUrl(req: { url?: string }): string {
  const url = req.url ?? '/';
  if (!url.includes('%')) return url;
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  try {
    decodeURI(path);
    return url;
  } catch {
    return path.replaceAll('%', '%25') + url.slice(path.length);
  }
}

export function restoreTarget(req: IncomingMessage & { originalUrl?: string }): void {
  if (req.originalUrl !== undefined && req.originalUrl !== req.url) req.url = req.originalUrl;
}
