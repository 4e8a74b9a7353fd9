/** The validated, fully resolved configuration. Every default is already applied. */

export type AuthMethod = 'client_secret_post' | 'client_secret_basic';

/** client_secret_basic: `form` form-encodes ID and secret before base64 (RFC 6749 2.3.1); `raw` sends them as they are. */
export type BasicEncoding = 'form' | 'raw';

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
  /** How client_secret_basic writes the Authorization header; `form` for client_secret_post (unused). */
  readonly basicEncoding: BasicEncoding;
  /**
   * Extra form parameters of the client-credentials request, in order: `scope`, `audience`,
   * `resource` (from their own keys), then clients[].tokenParams. Never grant_type or credentials.
   */
  readonly tokenParams: Readonly<Record<string, string>>;
  /** MSP mode: the tenant workspaces this client may act on, each with a token got by token exchange. Empty: none. */
  readonly tenants: readonly TenantConfig[];
  /** Token endpoint of a tenant, `{workspaceId}` standing for its ID; undefined when there are no tenants. */
  readonly tenantTokenUrl: string | undefined;
}

/** A tenant workspace of an MSP client. */
export interface TenantConfig {
  /** What routes (`routes[].tenant`), callers (`X-GreenLake-Workspace`), logs and status call it. */
  readonly name: string;
  /** Hex digits without hyphens, lower case (hyphens in the configuration are removed). */
  readonly workspaceId: string;
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
  /** Name of a tenant of the client: requests act on that tenant workspace; undefined: on the client's own workspace. */
  readonly tenant: string | undefined;
  /** Callers may pick one of the client's tenants per request with `X-GreenLake-Workspace` (else the header is refused). */
  readonly tenantHeader: boolean;
  /** Only GET, HEAD and OPTIONS are forwarded on this route (whoever calls). Data: `withReadOnlyRoutes` sets it on every route. */
  readonly readOnly: boolean;
  /** Only requests an allow rule permits are forwarded on this route; undefined: every method and path. */
  readonly allow: readonly AllowRule[] | undefined;
}

/**
 * One rule of an `allow` list: a request is permitted when its method is among `methods` and the
 * path within the route matches one of `paths`. Patterns match segment by segment, byte for byte
 * (never decoded): `*` is exactly one segment, `**` any number of them (none included).
 */
export interface AllowRule {
  /** undefined: any method. */
  readonly methods: readonly HttpMethod[] | undefined;
  readonly paths: readonly string[];
}

/** What a principal (an API key, the holders of a JWT claim value) may do beyond its scope: readOnly and allow rules. */
export interface AccessConfig {
  readonly readOnly: boolean;
  readonly allow: readonly AllowRule[] | undefined;
}

export interface ListenConfig {
  /** With `socket`: unused by the main listener (only the Host allow-list's default names). */
  readonly host: string;
  readonly port: number;
  /** Serve https with this certificate and key (PEM files, re-read when they change); absent: plain http. */
  readonly tls?: TlsFilesConfig | undefined;
  /** The main listener serves on this Unix-domain socket instead of host:port. */
  readonly socket?: SocketListenConfig | undefined;
}

/** A Unix-domain socket file (kubectl proxy's --unix-socket). */
export interface SocketListenConfig {
  /** Absolute path of the socket file. */
  readonly path: string;
  /** Permission bits of the socket file (0o600 by default): who may connect. */
  readonly mode: number;
}

export interface TlsFilesConfig {
  readonly certFile: string;
  readonly keyFile: string;
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
  /** How long a caller may take to send a request's headers (slow-header attacks): 408 after it. */
  readonly inboundHeadersMs: number;
  /** Longest silence on a caller's connection, either way; never a cap on a whole request, so big uploads keep going. */
  readonly inboundIdleMs: number;
  /** How long a request body (up to 1 MiB) is held for a 401 replay before it streams from where it got to, without replay. */
  readonly requestBodyHoldMs: number;
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

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';

/** Who may call the proxy, from where, and how often. */
export interface InboundConfig {
  /** Listening on a non-loopback address without apiKeys or jwt was accepted deliberately. */
  readonly allowUnauthenticated: boolean;
  /** Host names (lower case, IPv6 in brackets) accepted in the Host header besides the defaults. */
  readonly allowedHosts: readonly string[];
  /** Origins (`https://tool.example.com`) whose browser requests are accepted; none by default. */
  readonly allowedOrigins: readonly string[];
  /** A header every request must carry (except health probes), e.g. `X-GreenLake-Proxy: 1`. */
  readonly requireHeader: RequiredHeaderConfig | undefined;
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly jwt: JwtConfig | undefined;
  readonly rateLimit: RateLimitConfig | undefined;
  /** Largest request head (request line and headers) accepted; larger ones get 431. */
  readonly maxHeaderBytes: number;
  /** Request bodies held for a 401 replay, all requests together; past it, bodies stream without replay. */
  readonly maxReplayMemoryBytes: number;
  /** The local token endpoint, for tools that insist on fetching a token themselves. */
  readonly localTokens: LocalTokensConfig;
}

/**
 * `POST <prefix>/as/token.oauth2`, `POST <prefix>/authorization/v2/oauth2/<id>/token` and
 * `POST /-/oauth/token` answer a stand-in token, worthless anywhere but this proxy.
 */
export interface LocalTokensConfig {
  /** false: those paths are forwarded like any other, with the caller's own credentials (never the proxy's token). */
  readonly enabled: boolean;
  /** expires_in of a stand-in (capped by the expiry of the JWT it was issued for). */
  readonly lifetimeSeconds: number;
  /**
   * Without inbound authentication only: the client ID and secret a token request must present;
   * empty: any. With apiKeys or jwt, the caller's API key or JWT is its client secret instead.
   */
  readonly clients: readonly LocalTokenClientConfig[];
}

export interface LocalTokenClientConfig {
  readonly clientId: string;
  /** `sha256:<64 hex digits>` of the secret (greenlake-proxy hash-key prints it). */
  readonly clientSecretHash: string;
}

export interface RequiredHeaderConfig {
  readonly name: string;
  readonly value: string;
}

/** A caller's key, known only by its hash. */
export interface ApiKeyConfig {
  readonly name: string;
  /** `sha256:<64 hex digits>` of the key. */
  readonly keyHash: string;
  /** Client names whose routes the key may use. */
  readonly clients: readonly string[];
  /** Route names (prefixes, or `port:<n>`) it may use; undefined: every route of its clients. */
  readonly routes: readonly string[] | undefined;
  /** Methods it may use; undefined: all. */
  readonly methods: readonly HttpMethod[] | undefined;
  /** May use the admin endpoints (/-/status, /-/metrics, /-/quit, the status page). */
  readonly admin: boolean;
  /** Only GET, HEAD and OPTIONS (on every route it may use). */
  readonly readOnly: boolean;
  /** Only what these rules permit; undefined: every method and path of its routes. */
  readonly allow: readonly AllowRule[] | undefined;
}

/** Bearer JWTs from the team's identity provider. */
export interface JwtConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUrl: string;
  /** The claim (a string or a list of strings) whose values `clients` maps. */
  readonly claim: string;
  /** Claim value -> client names its holder may use. */
  readonly clients: Readonly<Record<string, readonly string[]>>;
  /** Claim values whose holders may use the admin endpoints. */
  readonly adminClaimValues: readonly string[];
  /** Claim value -> readOnly and allow rules for what that value grants; a value not named here: no rules. */
  readonly access: Readonly<Record<string, AccessConfig>>;
}

export interface RateLimitConfig {
  /** Requests per window, per API key or JWT subject (per client address when none is presented). */
  readonly max: number;
  readonly timeWindowMs: number;
}

/** A listener for the `/-/` operations endpoints only (probes, metrics): it never forwards. */
export interface AdminListenConfig {
  readonly host: string;
  readonly port: number;
}

export interface ProxyConfig {
  readonly listen: ListenConfig;
  readonly admin: AdminListenConfig | undefined;
  readonly inbound: InboundConfig;
  readonly clients: readonly ClientConfig[];
  readonly routes: readonly RouteConfig[];
  readonly timeouts: TimeoutsConfig;
  readonly tokens: TokensConfig;
  readonly rateLimits: UpstreamRateLimitsConfig;
  /** Shared state for several replicas (tokens in Redis); undefined: everything stays in this process's memory. */
  readonly store: StoreConfig | undefined;
  /** Extra trusted CA certificates (PEM file), added to Node's defaults and NODE_EXTRA_CA_CERTS. */
  readonly caFile: string | undefined;
  /** Where the configuration came from, for messages: a file path, or `environment`. */
  readonly source: string;
  /** `listen` values of the config file that the environment or a flag replaced with other values (logged at start). */
  readonly listenOverrides?: readonly ListenOverride[] | undefined;
  /** GREENLAKE_PROXY_HOST/_PORT or --host/--port not used because the config file's listen.socket is the main listener. */
  readonly listenIgnored?: readonly string[] | undefined;
  /** Environment variables the config file's `${VAR}` put into a secret (clientSecret, store.redis's URL and key): `exec` keeps them from its child. */
  readonly secretVariables?: readonly string[] | undefined;
}

/**
 * A `listen` value of the config file replaced by GREENLAKE_PROXY_HOST/_PORT/_SOCKET or
 * --host/--port/--socket (`listen.socket` replaces the file's host and port: fileValue `host:port`).
 */
export interface ListenOverride {
  readonly key: 'listen.host' | 'listen.port' | 'listen.socket';
  /** The value in force. */
  readonly value: string | number;
  /** What set it: `GREENLAKE_PROXY_HOST`, `--port`, ... */
  readonly setBy: string;
  /** The config file's value it replaced. */
  readonly fileValue: string | number;
}

/**
 * GreenLake's own per-API-client rate limits, as the proxy shares them among its callers
 * (src/budget). Not inbound.rateLimit, which limits the proxy's callers.
 */
export interface UpstreamRateLimitsConfig {
  /** false: keep no budget; upstream 429s simply pass through. */
  readonly enabled: boolean;
  /** Longest total time a request is held for its client's used-up budget; beyond it, 429 from the proxy. 0: never hold. */
  readonly maxWaitMs: number;
  /** Retry GET, HEAD, OPTIONS, PUT, DELETE (with a replayable body) once after an upstream 429 whose wait fits maxWaitMs. */
  readonly retryIdempotent: boolean;
}

/** One entry of the built-in GreenLake catalog. */
export interface CatalogEntry {
  readonly prefix: string;
  readonly service: 'glp' | 'com' | 'dscc';
  readonly region: string;
  readonly upstream: string;
}

export interface StoreConfig {
  readonly redis: RedisStoreConfig;
}

/** Redis (or Valkey) shared by the replicas of one gateway. */
export interface RedisStoreConfig {
  /** `redis://` or `rediss://` URL; may hold a password: never logged. */
  readonly url: string;
  /** Put before every key name, so several gateways can share one Redis. */
  readonly keyPrefix: string;
  /** 32 bytes, base64 (from encryptionKey or the content of encryptionKeyFile): AES-256-GCM key of every stored value. */
  readonly encryptionKey: string;
  /** Longest wait for one Redis command; past it the proxy works from its own memory (degraded). */
  readonly commandTimeoutMs: number;
  /** Life of the lock one replica holds while it fetches a token; undefined: derived from timeouts.tokenRequestMs. */
  readonly lockTtlMs: number | undefined;
}
