/** Public types of the GreenLake emulator. */

export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  /** The user e-mail the token's `sub` claim names. */
  sub?: string;
}

export interface EmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Default: [DEMO_CLIENT]. */
  clients?: EmulatorClient[];
  /**
   * `expires_in` of new tokens from both issuers; change later with setTokenLifetime. Default as
   * GreenLake: 7199 s from /as/token.oauth2, 900 s from the workspace issuer.
   */
  tokenLifetimeSeconds?: number;
  /**
   * HPE's published per-API rate limits (devices GET 160/min, ...). Default false, so tests that
   * hammer an API see no 429 they did not ask for; `greenlake-proxy emulator` and the demo turn it on.
   */
  publishedRateLimits?: boolean;
  /** How many token and API requests the journal keeps (the last ones). Default 10000. */
  journalLimit?: number;
  /** Serve https instead of http. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Default false. When on, authorization headers are redacted and bodies are never logged. */
  logger?: boolean;
}

export interface RateLimit {
  limit: number;
  windowSeconds: number;
}

export interface TokenRequestRecord {
  /** Arrival time, ms since the epoch. */
  at: number;
  clientId: string | undefined;
  authMethod: 'client_secret_post' | 'client_secret_basic' | 'none';
  /** The form's grant_type, e.g. client_credentials or urn:ietf:params:oauth:grant-type:token-exchange; undefined if absent. */
  grantType: string | undefined;
  /** 0 while unanswered (a `hang` fault never answers). */
  status: number;
  path: string;
}

export interface ApiRequestRecord {
  /** Arrival time, ms since the epoch. */
  at: number;
  method: string;
  /** The request target exactly as received, byte for byte. */
  rawUrl: string;
  host: string | undefined;
  /** As received, lower-case keys. */
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  bodySha256: string;
  /** client_id of the bearer token when it was valid. */
  tokenClientId: string | undefined;
  /** 0 while unanswered. */
  status: number;
}

export type TokenFault =
  | { kind: 'status'; status: number; body?: string; retryAfterSeconds?: number; times?: number }
  | { kind: 'malformed'; times?: number }
  | { kind: 'no-expires-in'; times?: number }
  /** `expires_in` stays the lifetime while the JWT's exp is iat + expSeconds. */
  | { kind: 'exp-differs'; expSeconds: number; times?: number }
  | { kind: 'delay'; ms: number; times?: number }
  | { kind: 'hang'; times?: number };

/** status: answered in the route's error style; 5xx bodies carry errorDetails[].retryAfterSeconds (default 1). */
export type ApiFault =
  | { kind: 'delay'; ms: number }
  | { kind: 'status'; status: number; times?: number; retryAfterSeconds?: number };

/** The next `times` asynchronous items (async operations, DSCC tasks, COM jobs) created end FAILED. */
export type AsyncFault = { kind: 'fail'; times?: number };

export interface JournalCounts {
  tokenRequests: number;
  apiRequests: number;
  /** Per `METHOD path` (path as received, without the query). */
  byPath: Record<string, number>;
}

export interface Emulator {
  /** Origin, e.g. http://127.0.0.1:40123 (https with tls). */
  readonly url: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  workspaceTokenUrl(workspaceId: string): string;
  /** Oldest first; the last `journalLimit` only. */
  readonly tokenRequests: readonly TokenRequestRecord[];
  readonly apiRequests: readonly ApiRequestRecord[];
  /** Since start (or resetJournal), however many the journal still keeps. */
  readonly tokenRequestCount: number;
  readonly apiRequestCount: number;
  /** Requests to `path` (as received, no query), with `method` or any; token requests included. */
  requestCount(path: string, method?: string): number;
  setTokenFault(fault: TokenFault | undefined): void;
  setApiFault(fault: ApiFault | undefined): void;
  setAsyncFault(fault: AsyncFault | undefined): void;
  /** Per client_id across every API, fixed window; overrides the published per-API limits. */
  setRateLimit(limit: RateLimit | undefined): void;
  setPublishedRateLimits(enabled: boolean): void;
  /** Whether a 429 carries Retry-After (HPE documents none). Default false. */
  setRetryAfterOn429(enabled: boolean): void;
  /** Both issuers' lifetime. */
  setTokenLifetime(seconds: number): void;
  /** Every token issued so far now gets 401, as after a secret reset. */
  revokeAllTokens(): void;
  resetJournal(): void;
  close(): Promise<void>;
}
