import { InboundError } from './errors.ts';

/**
 * Browser CSRF: a page the user visits can make the browser send requests to localhost.
 * Browsers label them: `Origin` on cross-origin requests, `Sec-Fetch-Site` on all of them.
 * An explicitly allowed origin may come cross-site; anything else a browser labels as coming
 * from another site is refused. Tools (curl, SDKs) send neither header.
 */
export function checkBrowserRequest(
  origin: string | undefined,
  fetchSite: string | string[] | undefined,
  allowedOrigins: ReadonlySet<string>,
): InboundError | undefined {
  if (origin !== undefined) {
    if (allowedOrigins.has(origin.toLowerCase())) return undefined;
    return new InboundError(
      'GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED',
      'requests from web pages are refused unless their Origin is in inbound.allowedOrigins',
    );
  }
  if (fetchSite === 'cross-site' || fetchSite === 'same-site') {
    return new InboundError('GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED', 'requests a browser made for another site are refused');
  }
  return undefined;
}
