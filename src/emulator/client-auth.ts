/** OAuth client authentication as presented: client_secret_post (form) or client_secret_basic (header). */
import type { TokenRequestRecord } from './types.ts';

export interface PresentedCredentials {
  method: TokenRequestRecord['authMethod'];
  clientId: string | undefined;
  clientSecret: string | undefined;
  /** A Basic header that is not base64 of `urlencoded-id:urlencoded-secret`. */
  malformedBasic: boolean;
  /** Why the request is invalid (400 invalid_request), e.g. both methods at once. */
  problem: string | undefined;
}

export function presentedCredentials(
  authorization: string | undefined,
  form: ReadonlyMap<string, string> | undefined,
): PresentedCredentials {
  const formId = form?.get('client_id');
  const formSecret = form?.get('client_secret');
  if (authorization !== undefined && /^basic\s/i.test(authorization)) {
    return basicCredentials(authorization, formId, formSecret);
  }
  const method = formSecret === undefined ? 'none' : 'client_secret_post';
  return { method, clientId: formId, clientSecret: formSecret, malformedBasic: false, problem: undefined };
}

function basicCredentials(authorization: string, formId: string | undefined, formSecret: string | undefined): PresentedCredentials {
  const basic = parseBasic(authorization);
  const presented: PresentedCredentials = {
    method: 'client_secret_basic',
    clientId: basic?.clientId,
    clientSecret: basic?.clientSecret,
    malformedBasic: basic === undefined,
    problem: undefined,
  };
  // RFC 6749 §2.3: a client must not use more than one authentication method per request.
  if (formSecret !== undefined) presented.problem = 'Use one client authentication method, not both';
  else if (formId !== undefined && basic !== undefined && formId !== basic.clientId) {
    presented.problem = 'client_id in the body differs from the Basic credentials';
  }
  return presented;
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
function parseBasic(authorization: string): { clientId: string; clientSecret: string } | undefined {
  const decoded = Buffer.from(authorization.slice('basic'.length).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
