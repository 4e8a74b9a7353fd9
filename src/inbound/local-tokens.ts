import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { LocalTokenClientConfig, LocalTokensConfig } from '../config/index.ts';
import { bearerOf, type Authenticator } from './authenticate.ts';
import { InboundError } from './errors.ts';
import { looksLikeStandIn, type StandIn, type StandIns } from './stand-ins.ts';

/** What a token request presented: client ID and secret (form or HTTP Basic), and its headers (X-API-Key, Bearer). */
export interface TokenRequestCredentials {
  readonly clientId: string | undefined;
  readonly clientSecret: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

export type StandInGrant =
  | { readonly ok: true; readonly standIn: StandIn }
  | { readonly ok: false; readonly error: 'invalid_client' | 'temporarily_unavailable'; readonly description: string };

/**
 * Who gets a stand-in. With inbound authentication, only a caller proving an API key or JWT (as
 * X-API-Key, as a Bearer header, or as client_secret; the client ID is not looked at), and the
 * stand-in is bound to that principal. Without it, anyone, unless localTokens.clients names the
 * credentials to require.
 */
export async function grantStandIn(
  config: LocalTokensConfig,
  authenticator: Authenticator | undefined,
  standIns: StandIns,
  presented: TokenRequestCredentials,
): Promise<StandInGrant> {
  if (authenticator !== undefined) return grantToPrincipal(config, authenticator, standIns, presented);
  if (config.clients.length > 0 && !isLocalClient(config.clients, presented)) return refused('client_id or client_secret not accepted');
  return { ok: true, standIn: standIns.issue(undefined, config.lifetimeSeconds) };
}

async function grantToPrincipal(
  config: LocalTokensConfig,
  authenticator: Authenticator,
  standIns: StandIns,
  presented: TokenRequestCredentials,
): Promise<StandInGrant> {
  const apiKey = presented.headers['x-api-key'];
  const secret = (typeof apiKey === 'string' ? apiKey : undefined) ?? bearerOf(presented.headers) ?? presented.clientSecret;
  if (secret === undefined) return refused('present your API key or JWT as client_secret (or as X-API-Key)');
  if (looksLikeStandIn(secret)) return refused('a stand-in token cannot be exchanged for another: present your API key or JWT');
  const outcome = await authenticator.authenticateSecret(secret);
  if (!(outcome instanceof InboundError)) return { ok: true, standIn: standIns.issue(outcome, config.lifetimeSeconds) };
  if (outcome.code === 'GREENLAKE_PROXY_AUTH_UNAVAILABLE') return { ok: false, error: 'temporarily_unavailable', description: outcome.message };
  return refused('API key or token not accepted');
}

/** Every configured secret is compared, in constant time, whatever matches: the answer time says nothing. */
function isLocalClient(clients: readonly LocalTokenClientConfig[], presented: TokenRequestCredentials): boolean {
  if (presented.clientId === undefined || presented.clientSecret === undefined) return false;
  const digest = createHash('sha256').update(presented.clientSecret, 'utf8').digest();
  let found = false;
  for (const client of clients) {
    const secretMatches = timingSafeEqual(digest, Buffer.from(client.clientSecretHash.slice('sha256:'.length), 'hex'));
    if (secretMatches && client.clientId === presented.clientId) found = true;
  }
  return found;
}

function refused(description: string): StandInGrant {
  return { ok: false, error: 'invalid_client', description };
}
