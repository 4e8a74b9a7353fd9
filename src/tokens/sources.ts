/**
 * How one token is got: the grant-specific part of a TokenKeeper. A keeper owns everything
 * around it (single flight, refresh, backoff, invalidate, status) whatever the grant.
 */
import type { Dispatcher } from 'undici';
import { readSecret, WORKSPACE_ID_PLACEHOLDER, type ClientConfig, type TenantConfig, type TimeoutsConfig, type TokensConfig } from '../config/index.ts';
import { TokenError } from './errors.ts';
import { requestToken, tokenExchangeGrant, type IssuedToken, type TokenRequest } from './request-token.ts';

/** Makes one call to a token endpoint; the keeper counts, times and reports every call made through it. */
export type EndpointCall = (call: () => Promise<IssuedToken>) => Promise<IssuedToken>;

/** Gets one token, making its token-endpoint call(s) through `endpoint`. No retries: the keeper owns retry policy. */
export type TokenFetcher = (endpoint: EndpointCall) => Promise<IssuedToken>;

export interface EndpointDeps {
  readonly client: ClientConfig;
  readonly tokens: TokensConfig;
  readonly timeouts: TimeoutsConfig;
  readonly dispatcher: Dispatcher;
}

/** Where a token exchange gets the subject (MSP) token: the keeper of the client's own token. */
export interface SubjectTokens {
  get(): Promise<string>;
  /** The exchange endpoint refused this token: forget it, unless a newer one already replaced it. false: the same token would come again. */
  invalidate(token: string): boolean;
}

/** OAuth 2.0 client credentials at the client's tokenUrl. */
export function clientCredentials(deps: EndpointDeps): TokenFetcher {
  return async (endpoint) => {
    const clientSecret = await readClientSecret(deps.client);
    const request = { ...tokenRequest(deps, deps.client.tokenUrl, clientSecret), params: deps.client.tokenParams };
    return endpoint(() => requestToken(request, defaultLifetimeMs(deps)));
  };
}

/** The client-credentials request of a client, as the keeper sends it (for callers outside a keeper: `check --online`). */
export function clientCredentialsRequest(client: ClientConfig, clientSecret: string, timeoutMs: number, dispatcher: Dispatcher): TokenRequest {
  const { clientId, authMethod, basicEncoding, tokenUrl, tokenParams } = client;
  return { tokenUrl, clientId, clientSecret, authMethod, basicEncoding, timeoutMs, dispatcher, params: tokenParams };
}

/**
 * GreenLake MSP mode: RFC 8693 token exchange of the client's own (MSP) token at the tenant's
 * token endpoint, authenticated as the client (its authMethod). A refused subject token (401, or
 * 400 invalid_request / invalid_grant, which RFC 8693 section 2.2.2 prescribes for an invalid
 * subject_token) is dropped from its keeper and the exchange tried once more with a fresh one.
 */
export function tokenExchange(
  deps: EndpointDeps & { readonly tenant: TenantConfig; readonly tenantTokenUrl: string; readonly subject: SubjectTokens },
): TokenFetcher {
  const url = tenantTokenUrlOf(deps.tenantTokenUrl, deps.tenant.workspaceId);
  return async (endpoint) => {
    const clientSecret = await readClientSecret(deps.client);
    const exchange = (subjectToken: string): Promise<IssuedToken> =>
      endpoint(() =>
        requestToken({ ...tokenRequest(deps, url, clientSecret), grant: tokenExchangeGrant(subjectToken) }, defaultLifetimeMs(deps)),
      );
    const first = await subjectToken(deps);
    try {
      return await exchange(first);
    } catch (err) {
      if (!refusesSubject(err) || !deps.subject.invalidate(first)) throw err;
      return exchange(await subjectToken(deps));
    }
  };
}

/** The tenant token URL template with the workspace ID put in. */
export function tenantTokenUrlOf(template: string, workspaceId: string): string {
  return template.replaceAll(WORKSPACE_ID_PLACEHOLDER, workspaceId);
}

/** The request without extra parameters: clients[].tokenParams are for the client-credentials grant only. */
function tokenRequest(deps: EndpointDeps, tokenUrl: string, clientSecret: string): TokenRequest {
  const { client, timeouts, dispatcher } = deps;
  const { clientId, authMethod, basicEncoding } = client;
  return { tokenUrl, clientId, clientSecret, authMethod, basicEncoding, timeoutMs: timeouts.tokenRequestMs, dispatcher };
}

function defaultLifetimeMs(deps: EndpointDeps): number {
  return deps.tokens.defaultLifetimeSeconds * 1000;
}

function refusesSubject(err: unknown): boolean {
  if (!(err instanceof TokenError) || err.code !== 'GREENLAKE_PROXY_TOKEN_REJECTED') return false;
  if (err.endpointStatus === 401) return true;
  return err.endpointStatus === 400 && (err.oauth?.error === 'invalid_request' || err.oauth?.error === 'invalid_grant');
}

/** The MSP token, its failure told as such: a tenant token cannot be had without it. */
async function subjectToken(deps: { readonly client: ClientConfig; readonly subject: SubjectTokens }): Promise<string> {
  try {
    return await deps.subject.get();
  } catch (cause) {
    if (!(cause instanceof TokenError)) throw cause;
    throw new TokenError(cause.code, `MSP token of client ${deps.client.name} (needed for the token exchange): ${cause.message}`, {
      retryable: cause.retryable,
      ...(cause.endpointStatus !== undefined && { endpointStatus: cause.endpointStatus }),
      ...(cause.oauth !== undefined && { oauth: cause.oauth }),
      ...(cause.retryAfterMs !== undefined && { retryAfterMs: cause.retryAfterMs }),
      cause,
    });
  }
}

async function readClientSecret(client: ClientConfig): Promise<string> {
  try {
    return await readSecret(client);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : 'unreadable';
    // Retryable: a mounted secret being rotated can be missing for a moment.
    throw new TokenError('GREENLAKE_PROXY_SECRET_UNREADABLE', `client secret of ${client.name}: ${why}`, {
      retryable: true,
      cause,
    });
  }
}
