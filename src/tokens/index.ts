export { TokenError, type TokenErrorCode, type OAuthErrorBody } from './errors.ts';
export { TokenKeeper, type TokenState, type TokenStatus } from './keeper.ts';
export { TokenRegistry } from './registry.ts';
export { requestToken, type IssuedToken, type TokenRequest } from './request-token.ts';
export type { ForcedRefreshOutcome, TokenFetchOutcome, TokenObserver } from './observer.ts';
export { clientCredentialsRequest } from './sources.ts';
export { sharedFetch, StoreUnavailable, type SharedFetch, type SharedFetchOptions, type SharedToken, type TokenStore } from './shared.ts';
