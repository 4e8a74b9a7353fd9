/** Who may call the proxy: Host and browser-origin checks, API keys and JWTs, scopes, rate limits, inbound TLS. */
export { generateKey, hashKey } from './api-keys.ts';
export { AccessRules } from './access.ts';
export { AccessError, InboundError, type InboundErrorCode } from './errors.ts';
export { createInbound, type AccessTarget, type Inbound, type InboundOptions } from './guard.ts';
export type { Principal } from './principal.ts';
export type { SharedCounter } from './rate-limit.ts';
export { readTlsFilesAtStart, watchTlsFiles, type TlsMaterial } from './tls.ts';
export type { StandInGrant, TokenRequestCredentials } from './local-tokens.ts';
export { isLocalTokenPath, isTokenEndpointPath, LOCAL_TOKEN_ENDPOINT } from './token-paths.ts';
export { STAND_IN_PREFIX } from './stand-ins.ts';
