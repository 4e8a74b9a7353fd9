import type { TokenErrorCode } from './errors.ts';

export type TokenFetchOutcome = 'ok' | 'rejected' | 'unavailable';

/** Told about every call to a token endpoint: for metrics; never sees a token or secret. */
export interface TokenObserver {
  /** `tenant`: set for the token exchange of a tenant token (MSP mode). */
  tokenFetched(client: string, region: string, outcome: TokenFetchOutcome, seconds: number, tenant?: string): void;
  /** An upstream answered 401 to the cached token: `dropped` (a new one will be fetched) or `kept` (forced refreshes are rate-limited). */
  tokenRefusedUpstream?(client: string, region: string, outcome: ForcedRefreshOutcome, tenant?: string): void;
}

export type ForcedRefreshOutcome = 'dropped' | 'kept';

export function outcomeOf(code: TokenErrorCode): TokenFetchOutcome {
  return code === 'GREENLAKE_PROXY_TOKEN_REJECTED' ? 'rejected' : 'unavailable';
}
