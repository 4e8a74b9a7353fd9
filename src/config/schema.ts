import net from 'node:net';
import * as z from 'zod';
import { formatPath, type Problem } from './errors.ts';
import type { HttpMethod, ListenConfig, TimeoutsConfig, TokensConfig, UpstreamRateLimitsConfig } from './types.ts';

export const DEFAULT_TOKEN_URL = 'https://sso.common.cloud.hpe.com/as/token.oauth2';

/** Where `{workspaceId}` goes in a tenant token URL template (clients[].tenantTokenUrl). */
export const WORKSPACE_ID_PLACEHOLDER = '{workspaceId}';
/** Tenant token endpoint of a client whose tokenUrl is not a workspace URL. */
export const DEFAULT_TENANT_TOKEN_URL = `https://global.api.greenlake.hpe.com/authorization/v2/oauth2/${WORKSPACE_ID_PLACEHOLDER}/token`;

/** Node's timers overflow above this (and then fire after 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export const LISTEN_DEFAULTS = { host: '127.0.0.1', port: 8080 } as const satisfies ListenConfig;

export const TIMEOUT_DEFAULTS = {
  tokenWaitMs: 10_000,
  tokenRequestMs: 5_000,
  upstreamConnectMs: 10_000,
  upstreamHeadersMs: 60_000,
  upstreamBodyMs: 300_000,
  shutdownGraceMs: 25_000,
  inboundHeadersMs: 30_000,
  // Longer than upstreamBodyMs, so that a silent upstream is reported by its own timeout (504) first.
  inboundIdleMs: 330_000,
  requestBodyHoldMs: 10_000,
} as const satisfies TimeoutsConfig;

export const INBOUND_DEFAULTS = {
  maxHeaderBytes: 16 * 1024,
  maxReplayMemoryBytes: 64 * 1024 * 1024,
  rateLimitWindowMs: 60_000,
  jwtClaim: 'groups',
} as const;

/** The local token endpoint (inbound.localTokens): on, stand-ins living as long as a workspace token (900 s). */
export const LOCAL_TOKEN_DEFAULTS = {
  enabled: true,
  lifetimeSeconds: 900,
} as const;
/** A stand-in lives at least a minute (tools refresh ahead of expiry) and at most a day. */
export const LOCAL_TOKEN_LIFETIME_RANGE = { min: 60, max: 86_400 } as const;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const satisfies readonly HttpMethod[];
/** What readOnly lets through: the methods that change nothing. */
export const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'] as const satisfies readonly HttpMethod[];

export const RATE_LIMIT_DEFAULTS = {
  enabled: true,
  maxWaitMs: 5_000,
  retryIdempotent: true,
} as const satisfies UpstreamRateLimitsConfig;

/** Holding a request longer than this is never what a caller wants: answer 429 and let it decide. */
export const MAX_RATE_LIMIT_WAIT_MS = 600_000;

export const TOKEN_DEFAULTS = {
  minTtlSeconds: 10,
  maxAttempts: 4,
  backoffBaseMs: 250,
  backoffMaxMs: 30_000,
  defaultLifetimeSeconds: 300,
} as const satisfies TokensConfig;

export const STORE_DEFAULTS = {
  keyPrefix: 'greenlake-proxy:',
  commandTimeoutMs: 200,
} as const;

/** AES-256: 32 bytes. */
export const ENCRYPTION_KEY_BYTES = 32;

const CLIENT_NAME = /^[A-Za-z0-9._-]+$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9._~-]+$/;
const KEY_HASH = /^sha256:[0-9a-f]{64}$/;
const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/;
/** Hex digits, optionally in hyphen-separated groups as users copy them (UUID style). */
const WORKSPACE_ID = /^[0-9a-f]+(-[0-9a-f]+)*$/i;
const WORKSPACE_ID_MAX_DIGITS = 64;
/** `https://host/authorization/v2/oauth2/<workspace>/token`: the part before and after the workspace ID. */
const WORKSPACE_TOKEN_URL = /^(.+\/authorization\/v2\/oauth2\/)([^/]+)(\/token)$/;

// ---------------------------------------------------------------------------------------------
// Field rules. Each returns a short message, or undefined when the value is fine. None of them
// ever quotes the value: it may be a secret pasted into the wrong place.

export function checkClientName(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (!CLIENT_NAME.test(name)) return 'may contain only A-Z a-z 0-9 . _ -';
  return undefined;
}

export function checkPrefix(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return 'must start with /';
  if (prefix === '/-' || prefix.startsWith('/-/')) return 'must not be /- or start with /-/ (reserved for the admin endpoints)';
  if (prefix.endsWith('/')) return 'must not end with /';
  const segments = prefix.slice(1).split('/');
  if (segments.includes('')) return 'must not contain empty segments (//)';
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'must not contain . or .. segments';
  if (!segments.every((segment) => PREFIX_SEGMENT.test(segment))) return 'segments may contain only A-Z a-z 0-9 . _ ~ -';
  return undefined;
}

/** What a path pattern's literal segments may contain: RFC 3986 pchar (percent-encodings checked apart). */
const PATTERN_SEGMENT = /^[A-Za-z0-9\-._~!$&'()+,;=:@%]+$/;
/** Encodings an upstream may turn into a separator or into another encoding: never in a pattern. */
const SEPARATOR_ENCODING = /%(2f|5c|25)/i;

/**
 * An allow rule's path pattern, matched against the path within the route: `/`-separated
 * segments, each a literal (compared byte for byte, never decoded), `*` (one segment) or `**`
 * (any number). No query, no empty, dot or partly wildcard segments, no encoded separators.
 */
export function checkPathPattern(pattern: string): string | undefined {
  if (!pattern.startsWith('/')) return 'must start with / (a path within the route, after its prefix)';
  if (/[?#]/.test(pattern)) return 'must not contain ? or #: the query is never matched, and # never reaches the proxy';
  if (pattern === '/') return undefined;
  if (pattern.endsWith('/')) return 'must not end with / (use /** for everything below a path)';
  const segments = pattern.slice(1).split('/');
  if (segments.includes('')) return 'must not contain empty segments (//)';
  for (const segment of segments) {
    const problem = checkPatternSegment(segment);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

function checkPatternSegment(segment: string): string | undefined {
  if (segment === '*' || segment === '**') return undefined;
  if (segment.includes('*')) return 'a * stands for a whole segment (* one segment, ** any number): it cannot be part of one';
  if (!PATTERN_SEGMENT.test(segment)) return "segments may contain only A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) + , ; = : @ and percent-encodings";
  if (/%(?![0-9A-Fa-f]{2})/.test(segment)) return 'has a malformed percent-encoding';
  if (SEPARATOR_ENCODING.test(segment)) return 'must not contain an encoded /, \\ or % (%2F, %5C, %25): an upstream may decode it';
  const decoded = segment.replace(/%2e/gi, '.');
  if (decoded === '.' || decoded === '..') return 'must not contain . or .. segments';
  return undefined;
}

/** tokenUrl and upstream: absolute https URL (http only on loopback), no credentials, query or fragment. */
export function checkHttpUrl(text: string): string | undefined {
  const url = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? URL.parse(text) : null;
  if (url === null || url.hostname === '') return 'must be an absolute URL such as https://host/path';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    return 'must be https (http only on loopback addresses)';
  }
  if (url.username !== '' || url.password !== '' || authorityOf(text).includes('@')) return 'must not contain credentials';
  if (/[?#]/.test(text)) return 'must not have a query or fragment';
  return undefined;
}

/** A GreenLake workspace ID: hex digits, with or without hyphens between groups. */
export function checkWorkspaceId(text: string): string | undefined {
  if (WORKSPACE_ID.test(text) && normalWorkspaceId(text).length <= WORKSPACE_ID_MAX_DIGITS) return undefined;
  return `must be a workspace ID: 1 to ${WORKSPACE_ID_MAX_DIGITS} hex digits (0-9, a-f), hyphens between groups allowed`;
}

/** A workspace ID as GreenLake spells it: hyphens removed, lower case (`0123ABCD-...` and `0123abcd...` are one workspace). */
export function normalWorkspaceId(text: string): string {
  return text.replaceAll('-', '').toLowerCase();
}

/** Form parameters that clients[].tokenParams may not set: the grant and the client's authentication are the proxy's. */
const RESERVED_TOKEN_PARAMS = ['grant_type', 'client_id', 'client_secret', 'subject_token', 'subject_token_type'];
/** Set by their own keys (clients[].scope, .audience, .resource), never twice. */
const OWN_KEY_TOKEN_PARAMS = ['scope', 'audience', 'resource'];

/** A name in clients[].tokenParams. Compared case-insensitively: a server may well read `Client_Secret` as the real one. */
export function checkTokenParamName(name: string): string | undefined {
  const lower = name.toLowerCase();
  if (name === '') return 'must not be empty';
  if (RESERVED_TOKEN_PARAMS.includes(lower)) return 'is set by the proxy (the grant and the client authentication) and may not be overridden';
  if (OWN_KEY_TOKEN_PARAMS.includes(lower)) return `has its own key: set clients[].${lower} instead`;
  return undefined;
}

/** clients[].tenantTokenUrl: a token URL with `{workspaceId}` where the tenant's ID goes. */
export function checkTenantTokenUrl(text: string): string | undefined {
  if (!text.includes(WORKSPACE_ID_PLACEHOLDER)) return `must contain ${WORKSPACE_ID_PLACEHOLDER} where the tenant's workspace ID goes`;
  const sample = text.replaceAll(WORKSPACE_ID_PLACEHOLDER, '0123abcd');
  if (/[{}]/.test(sample)) return `${WORKSPACE_ID_PLACEHOLDER} is the only placeholder it may contain`;
  return checkHttpUrl(sample);
}

/**
 * The tenant token URL a client gets when it names none: its own tokenUrl with the tenant's ID if
 * that is a workspace URL (`/authorization/v2/oauth2/<id>/token`), else GreenLake's global one.
 */
export function defaultTenantTokenUrl(tokenUrl: string): string {
  const parts = WORKSPACE_TOKEN_URL.exec(tokenUrl);
  return parts ? `${parts[1]}${WORKSPACE_ID_PLACEHOLDER}${parts[3]}` : DEFAULT_TENANT_TOKEN_URL;
}

/** A workspace token URL with its workspace ID as GreenLake spells it (`.../oauth2/0123-ABCD/token` -> `.../oauth2/0123abcd/token`). */
export function withNormalWorkspaceId(tokenUrl: string): string {
  const parts = WORKSPACE_TOKEN_URL.exec(tokenUrl);
  if (parts === null || checkWorkspaceId(parts[2] ?? '') !== undefined) return tokenUrl;
  return `${parts[1]}${normalWorkspaceId(parts[2] ?? '')}${parts[3]}`;
}

/** store.redis.url: redis:// or rediss://, a host, nothing after the database number. */
export function checkRedisUrl(text: string): string | undefined {
  const url = /^rediss?:\/\//i.test(text) ? URL.parse(text) : null;
  if (url === null || url.hostname === '') return 'must be a URL such as redis://host:6379 or rediss://host:6380/0';
  if (!/^(\/\d*)?$/.test(url.pathname) || url.search !== '' || url.hash !== '') return 'may have only a database number after the host (redis://host:6379/0)';
  return undefined;
}

/** An encryption key: 32 random bytes in base64 (`openssl rand -base64 32`). Never quoted: it is a secret. */
export function checkEncryptionKey(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return 'must be base64 (openssl rand -base64 32)';
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== ENCRYPTION_KEY_BYTES) return `must be ${ENCRYPTION_KEY_BYTES} bytes in base64, got ${bytes.length} bytes (openssl rand -base64 32)`;
  return undefined;
}

export function checkKeyHash(text: string): string | undefined {
  return KEY_HASH.test(text) ? undefined : 'must be sha256: and 64 lower-case hex digits (greenlake-proxy hash-key prints it)';
}

/** A name or IP address as it appears in a Host header, without port: `proxy.example.com`, `10.0.0.7`, `[fd00::7]`. */
export function checkHostName(text: string): string | undefined {
  if (text.startsWith('[') && text.endsWith(']') && net.isIPv6(text.slice(1, -1))) return undefined;
  if (net.isIPv6(text)) return undefined;
  if (HOST_NAME.test(text)) return undefined;
  return 'must be a host name or IP address, without scheme, port or wildcard';
}

/** An origin as browsers send it: scheme, host and optional port, nothing else. */
export function checkOrigin(text: string): string | undefined {
  const url = /^https?:\/\//i.test(text) ? URL.parse(text) : null;
  if (url === null || url.origin.toLowerCase() !== text.toLowerCase()) {
    return 'must be an origin such as https://tool.example.com (scheme, host, optional port; no path or trailing /)';
  }
  return undefined;
}

export function checkHeaderName(text: string): string | undefined {
  return HEADER_NAME.test(text) ? undefined : 'must be an HTTP header name';
}

export function checkHeaderValue(text: string): string | undefined {
  return HEADER_VALUE.test(text) ? undefined : 'must be visible ASCII characters (spaces only inside)';
}

export const DEFAULT_SOCKET_MODE = 0o600;
/** sun_path holds 108 bytes with its terminating NUL; Node silently cuts a longer path. */
export const MAX_SOCKET_PATH_BYTES = 107;

const SOCKET_MODE_HINT = 'must be octal permission digits such as 0600 (owner only) or 0660 (owner and group)';

/**
 * listen.mode as the user meant it: a string of octal digits (`"0600"`, `"600"`, `"0o600"`), or
 * an integer whose decimal digits are all 0-7, read as those octal digits (YAML 1.2 reads
 * `mode: 0600` as the integer 600; the loader hands the YAML text itself here). The permission
 * bits, or what is wrong.
 */
export function parseSocketMode(value: string | number): number | string {
  const text = typeof value === 'number' ? (Number.isSafeInteger(value) && value >= 0 ? String(value) : '') : value.trim();
  const digits = /^(?:0[oO])?([0-7]{1,4})$/.exec(text)?.[1];
  if (digits === undefined) return SOCKET_MODE_HINT;
  const mode = Number.parseInt(digits, 8);
  if (mode > 0o777) return 'must be permission bits from 0600 to 0777 (no setuid, setgid or sticky bit)';
  if ((mode & 0o600) !== 0o600) return 'must let its owner read and write the socket (0600 at least)';
  return mode;
}

/** Whether a socket of this mode lets users other than its owner and group connect. */
export function socketOpenToOthers(mode: number): boolean {
  return (mode & 0o007) !== 0;
}

/** Whether a listen address only accepts connections from this machine. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost' || lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice(7) : lower;
  return net.isIPv4(v4) && v4.startsWith('127.');
}

function isLoopbackHost(hostname: string): boolean {
  // URL has already normalised the host: IPv4 to dotted decimal, IPv6 to bracketed compressed form.
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

function authorityOf(text: string): string {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(text)?.[1] ?? '';
}

// ---------------------------------------------------------------------------------------------
// Schema: the shape of a configuration file, with defaults. Rules that relate several fields
// (unique names, references, catalog look-ups) live in resolve.ts.

function ruled(check: (value: string) => string | undefined): z.ZodString {
  return z.string().check((ctx) => {
    const message = check(ctx.value);
    if (message !== undefined) ctx.issues.push({ code: 'custom', message, input: ctx.value });
  });
}

function integerIn(min: number, max: number): z.ZodInt {
  return z.int({ error: (issue) => (issue.input === undefined ? 'missing' : `must be an integer from ${min} to ${max}`) })
    .min(min)
    .max(max);
}

const nonEmptyString = ruled((value) => (value === '' ? 'must not be empty' : undefined));
const httpUrl = ruled(checkHttpUrl);
const timerMs = integerIn(1, MAX_TIMER_MS);

export const AUTH_METHODS = ['client_secret_post', 'client_secret_basic'] as const;
/** client_secret_basic: `form` encodes ID and secret before base64 (RFC 6749 2.3.1); `raw` sends them as they are. */
export const BASIC_ENCODINGS = ['form', 'raw'] as const;

const tokenParamsSchema = z.record(
  ruled(checkTokenParamName),
  z.string({ error: (issue) => `expected a string, got ${describeReceived(issue.input)}${quotingHint('string', issue.input)}` }),
);

const tenantSchema = z.strictObject({
  name: ruled(checkClientName),
  workspaceId: ruled(checkWorkspaceId),
});

const clientSchema = z.strictObject({
  name: ruled(checkClientName),
  clientId: nonEmptyString,
  clientSecret: nonEmptyString.optional(),
  clientSecretFile: nonEmptyString.optional(),
  tokenUrl: httpUrl.default(DEFAULT_TOKEN_URL),
  authMethod: z.enum(AUTH_METHODS).default('client_secret_post'),
  basicEncoding: z.enum(BASIC_ENCODINGS).optional(),
  scope: nonEmptyString.optional(),
  audience: nonEmptyString.optional(),
  resource: nonEmptyString.optional(),
  tokenParams: tokenParamsSchema.default({}),
  tenants: z.array(tenantSchema).default([]),
  tenantTokenUrl: ruled(checkTenantTokenUrl).optional(),
});

const allowRuleSchema = z.strictObject({
  methods: nonEmptyList(z.enum(HTTP_METHODS)).optional(),
  paths: nonEmptyList(ruled(checkPathPattern)),
});

/** readOnly and allow, the same on routes, API keys and JWT claim values. */
const accessFields = {
  readOnly: z.boolean().default(false),
  allow: nonEmptyList(allowRuleSchema).optional(),
};

const routeSchema = z.strictObject({
  prefix: ruled(checkPrefix).optional(),
  port: integerIn(1, 65535).optional(),
  upstream: httpUrl.optional(),
  client: nonEmptyString.optional(),
  region: nonEmptyString.optional(),
  tenant: nonEmptyString.optional(),
  tenantHeader: z.boolean().default(false),
  ...accessFields,
});

const tlsFilesSchema = z.strictObject({
  certFile: nonEmptyString,
  keyFile: nonEmptyString,
});

const socketModeSchema = z
  .union([z.string(), z.number()], { error: () => SOCKET_MODE_HINT })
  .transform((value, ctx) => {
    const mode = parseSocketMode(value);
    if (typeof mode === 'number') return mode;
    ctx.issues.push({ code: 'custom', message: mode, input: value });
    return z.NEVER;
  });

const listenSchema = z.strictObject({
  host: nonEmptyString.default(LISTEN_DEFAULTS.host),
  port: integerIn(0, 65535).default(LISTEN_DEFAULTS.port),
  tls: tlsFilesSchema.optional(),
  socket: nonEmptyString.optional(),
  mode: socketModeSchema.optional(),
});

const adminSchema = z.strictObject({
  host: nonEmptyString.default(LISTEN_DEFAULTS.host),
  port: integerIn(0, 65535),
});

function nonEmptyList<T extends z.ZodType>(item: T) {
  return z.array(item).min(1, { error: 'must not be empty (leave it out instead)' });
}

const apiKeySchema = z
  .strictObject({
    name: ruled(checkClientName),
    keyHash: ruled(checkKeyHash),
    clients: z.array(nonEmptyString).default([]),
    routes: nonEmptyList(nonEmptyString).optional(),
    methods: nonEmptyList(z.enum(HTTP_METHODS)).optional(),
    /** May read /-/status, /-/metrics and the status page, and POST /-/quit. */
    admin: z.boolean().default(false),
    ...accessFields,
  })
  .refine((key) => key.clients.length > 0 || key.admin, { path: ['clients'], error: 'must name at least one client (or the key is admin: true only)' });

const jwtSchema = z.strictObject({
  issuer: nonEmptyString,
  audience: nonEmptyString,
  jwksUrl: httpUrl,
  claim: nonEmptyString.default(INBOUND_DEFAULTS.jwtClaim),
  clients: z.record(z.string(), z.array(nonEmptyString).min(1, { error: 'must name at least one client' })),
  /** Values of `claim` whose holders get the admin scope (/-/status, /-/metrics, /-/quit, the status page). */
  adminClaimValues: z.array(nonEmptyString).default([]),
  /** Claim value -> readOnly and allow rules for what it grants. */
  access: z.record(z.string(), z.strictObject(accessFields)).default({}),
});

const localTokenClientSchema = z.strictObject({
  clientId: nonEmptyString,
  clientSecretHash: ruled(checkKeyHash),
});

const localTokensSchema = z.strictObject({
  enabled: z.boolean().default(LOCAL_TOKEN_DEFAULTS.enabled),
  lifetimeSeconds: integerIn(LOCAL_TOKEN_LIFETIME_RANGE.min, LOCAL_TOKEN_LIFETIME_RANGE.max).default(LOCAL_TOKEN_DEFAULTS.lifetimeSeconds),
  clients: nonEmptyList(localTokenClientSchema).optional(),
});

const inboundSchema = z.strictObject({
  allowUnauthenticated: z.boolean().default(false),
  allowedHosts: z.array(ruled(checkHostName)).default([]),
  allowedOrigins: z.array(ruled(checkOrigin)).default([]),
  requireHeader: z.strictObject({ name: ruled(checkHeaderName), value: ruled(checkHeaderValue) }).optional(),
  apiKeys: z.array(apiKeySchema).default([]),
  jwt: jwtSchema.optional(),
  rateLimit: z
    .strictObject({
      max: integerIn(1, MAX_TIMER_MS),
      timeWindowMs: timerMs.default(INBOUND_DEFAULTS.rateLimitWindowMs),
    })
    .optional(),
  maxHeaderBytes: integerIn(1024, 1024 * 1024).default(INBOUND_DEFAULTS.maxHeaderBytes),
  localTokens: localTokensSchema.prefault({}),
  maxReplayMemoryBytes: integerIn(0, 16 * 1024 * 1024 * 1024).default(INBOUND_DEFAULTS.maxReplayMemoryBytes),
});

const timeoutsSchema = z.strictObject({
  tokenWaitMs: timerMs.default(TIMEOUT_DEFAULTS.tokenWaitMs),
  tokenRequestMs: timerMs.default(TIMEOUT_DEFAULTS.tokenRequestMs),
  upstreamConnectMs: timerMs.default(TIMEOUT_DEFAULTS.upstreamConnectMs),
  upstreamHeadersMs: timerMs.default(TIMEOUT_DEFAULTS.upstreamHeadersMs),
  upstreamBodyMs: timerMs.default(TIMEOUT_DEFAULTS.upstreamBodyMs),
  shutdownGraceMs: timerMs.default(TIMEOUT_DEFAULTS.shutdownGraceMs),
  inboundHeadersMs: timerMs.default(TIMEOUT_DEFAULTS.inboundHeadersMs),
  inboundIdleMs: timerMs.default(TIMEOUT_DEFAULTS.inboundIdleMs),
  requestBodyHoldMs: timerMs.default(TIMEOUT_DEFAULTS.requestBodyHoldMs),
});

const tokensSchema = z.strictObject({
  minTtlSeconds: integerIn(0, MAX_TIMER_MS).default(TOKEN_DEFAULTS.minTtlSeconds),
  maxAttempts: integerIn(1, MAX_TIMER_MS).default(TOKEN_DEFAULTS.maxAttempts),
  backoffBaseMs: timerMs.default(TOKEN_DEFAULTS.backoffBaseMs),
  backoffMaxMs: timerMs.default(TOKEN_DEFAULTS.backoffMaxMs),
  defaultLifetimeSeconds: integerIn(1, MAX_TIMER_MS).default(TOKEN_DEFAULTS.defaultLifetimeSeconds),
});

const redisSchema = z.strictObject({
  url: ruled(checkRedisUrl),
  keyPrefix: z.string().max(200, { error: 'must be at most 200 characters' }).default(STORE_DEFAULTS.keyPrefix),
  encryptionKey: ruled(checkEncryptionKey).optional(),
  encryptionKeyFile: nonEmptyString.optional(),
  commandTimeoutMs: integerIn(1, 60_000).default(STORE_DEFAULTS.commandTimeoutMs),
  lockTtlMs: integerIn(100, MAX_TIMER_MS).optional(),
});

export const configSchema = z.strictObject({
  listen: listenSchema.prefault({}),
  admin: adminSchema.optional(),
  inbound: inboundSchema.prefault({}),
  clients: z.array(clientSchema).min(1, { error: 'needs at least one client' }),
  routes: z.array(routeSchema).min(1, { error: 'must not be empty (leave it out to serve every catalog route)' }).optional(),
  timeouts: timeoutsSchema.prefault({}),
  tokens: tokensSchema.prefault({}),
  rateLimits: z
    .strictObject({
      enabled: z.boolean().default(RATE_LIMIT_DEFAULTS.enabled),
      maxWaitMs: integerIn(0, MAX_RATE_LIMIT_WAIT_MS).default(RATE_LIMIT_DEFAULTS.maxWaitMs),
      retryIdempotent: z.boolean().default(RATE_LIMIT_DEFAULTS.retryIdempotent),
    })
    .prefault({}),
  store: z.strictObject({ redis: redisSchema }).optional(),
  caFile: nonEmptyString.optional(),
});

export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedClient = z.output<typeof clientSchema>;
export type ParsedRoute = z.output<typeof routeSchema>;
export type ParsedInbound = z.output<typeof inboundSchema>;
export type ParsedAccess = z.output<z.ZodObject<typeof accessFields>>;

export type ShapeResult =
  | { readonly ok: true; readonly data: ParsedConfig }
  | { readonly ok: false; readonly problems: readonly Problem[] };

export function parseShape(raw: unknown): ShapeResult {
  if (raw === undefined || raw === null) return { ok: false, problems: [{ path: '', message: 'the configuration is empty' }] };
  const result = configSchema.safeParse(raw, { error: describeIssue });
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, problems: result.error.issues.flatMap(issueToProblems) };
}

// ---------------------------------------------------------------------------------------------
// Issue formatting: short, human, and never quoting the received value.

function describeIssue(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'missing';
      return `expected ${describeExpected(issue.expected)}, got ${describeReceived(issue.input)}${quotingHint(issue.expected, issue.input)}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys':
      return 'unknown key';
    default:
      return 'invalid';
  }
}

function issueToProblems(issue: z.core.$ZodIssue): Problem[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: 'unknown key' }));
  }
  // A record key that failed its rule (tokenParams): the rule's own message, at the key.
  if (issue.code === 'invalid_key') {
    return issue.issues.map((inner) => ({ path: formatPath(issue.path), message: inner.message }));
  }
  const path = formatPath(issue.path);
  return [{ path: path === '' ? '(top level)' : path, message: issue.message }];
}

/** YAML reads `clientId: 0123` or `name: true` as a number or boolean; the value may well be meant as text. */
function quotingHint(expected: string, input: unknown): string {
  return expected === 'string' && (typeof input === 'number' || typeof input === 'boolean') ? ' (put it in quotes)' : '';
}

function describeExpected(expected: string): string {
  const names: Record<string, string> = {
    object: 'a mapping of keys',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'true or false',
  };
  return names[expected] ?? expected;
}

function describeReceived(input: unknown): string {
  if (input === null) return 'an empty value';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'string') return `a ${typeof input}`;
  return typeof input;
}
