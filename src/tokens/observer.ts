import type { TokenErrorCode } from './errors.ts';

export type TokenFetchOutcome = 'ok' | 'rejected' | 'unavailable';

/** Told about every call to a token endpoint: for metrics; never sees a token or secret. */
export interface TokenObserver {
  /** `tenant`: set for the token exchange of a tenant token (MSP mode). */
  tokenFetched(client: string, region: string, outcome: TokenFetchOutcome, seconds: number, tenant?: string): void;
}

export function outcomeOf(code: TokenErrorCode): TokenFetchOutcome {
  return code === 'GREENLAKE_PROXY_TOKEN_REJECTED' ? 'rejected' : 'unavailable';
}
