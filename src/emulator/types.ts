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
  /** `expires_in` of new tokens, default 7199; change later with setTokenLifetime. */
  tokenLifetimeSeconds?: number;
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
  | { kind: 'delay'; ms: number; times?: number }
  | { kind: 'hang'; times?: number };

export type ApiFault = { kind: 'delay'; ms: number } | { kind: 'status'; status: number; times?: number };

export interface Emulator {
  /** Origin, e.g. http://127.0.0.1:40123 (https with tls). */
  readonly url: string;
  readonly tokenUrl: string;
  readonly jwksUrl: string;
  workspaceTokenUrl(workspaceId: string): string;
  /** Oldest first. */
  readonly tokenRequests: readonly TokenRequestRecord[];
  readonly apiRequests: readonly ApiRequestRecord[];
  setTokenFault(fault: TokenFault | undefined): void;
  setApiFault(fault: ApiFault | undefined): void;
  /** Per client_id, fixed window. */
  setRateLimit(limit: RateLimit | undefined): void;
  setTokenLifetime(seconds: number): void;
  /** Every token issued so far now gets 401, as after a secret reset. */
  revokeAllTokens(): void;
  resetJournal(): void;
  close(): Promise<void>;
}
