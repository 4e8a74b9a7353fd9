/** The validated, fully resolved configuration. Every default is already applied. */

export type AuthMethod = 'client_secret_post' | 'client_secret_basic';

/** Where a client secret comes from. A file is re-read at every token fetch (Kubernetes rotates mounted secrets). */
export type SecretSource =
  | { readonly kind: 'value'; readonly value: string }
  | { readonly kind: 'file'; readonly path: string };

export interface ClientConfig {
  readonly name: string;
  readonly clientId: string;
  readonly secret: SecretSource;
  readonly tokenUrl: string;
  readonly authMethod: AuthMethod;
}

export interface RouteConfig {
  /** Path prefix on the main listener, e.g. `/dscc/us1`; undefined when the route is served only on its own port. */
  readonly prefix: string | undefined;
  /** A listener of its own serving this route at `/`, on the same host as `listen`. */
  readonly port: number | undefined;
  /** Upstream origin plus optional base path, never a trailing slash: `https://us1.data.cloud.hpe.com`. */
  readonly upstream: string;
  /** Name of the client whose token this route uses. */
  readonly client: string;
  /** Token cache key together with the client: defaults to the prefix (or `port:<n>`). */
  readonly region: string;
}

export interface ListenConfig {
  readonly host: string;
  readonly port: number;
}

export interface TimeoutsConfig {
  /** How long one request may wait for a token before it fails (504 on timeout). */
  readonly tokenWaitMs: number;
  /** One call to the token endpoint. */
  readonly tokenRequestMs: number;
  /** TCP + TLS connect to an upstream. */
  readonly upstreamConnectMs: number;
  /** From request sent to upstream response headers. */
  readonly upstreamHeadersMs: number;
  /** Longest silence while a body streams either way. */
  readonly upstreamBodyMs: number;
  /** On SIGTERM/SIGINT, how long in-flight requests may take to finish. */
  readonly shutdownGraceMs: number;
}

export interface TokensConfig {
  /** Never forward a token that expires within this many seconds. */
  readonly minTtlSeconds: number;
  /** Attempts per token fetch (first try plus retries) on 5xx, 429, network errors and malformed answers. */
  readonly maxAttempts: number;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** Lifetime assumed when the answer has neither `expires_in` nor a JWT `exp`. */
  readonly defaultLifetimeSeconds: number;
}

export interface ProxyConfig {
  readonly listen: ListenConfig;
  readonly clients: readonly ClientConfig[];
  readonly routes: readonly RouteConfig[];
  readonly timeouts: TimeoutsConfig;
  readonly tokens: TokensConfig;
  /** Extra trusted CA certificates (PEM file), added to Node's defaults and NODE_EXTRA_CA_CERTS. */
  readonly caFile: string | undefined;
  /** Where the configuration came from, for messages: a file path, or `environment`. */
  readonly source: string;
}

/** One entry of the built-in GreenLake catalog. */
export interface CatalogEntry {
  readonly prefix: string;
  readonly service: 'glp' | 'com' | 'dscc';
  readonly region: string;
  readonly upstream: string;
}
