import type { ProxyConfig } from '../config/index.ts';
import type { Env } from './command.ts';

/** The proxy's base URL, in the child's environment. */
export const URL_VARIABLE = 'GREENLAKE_PROXY_URL';
/** With exec --socket: the socket file to connect to (curl --unix-socket "$GREENLAKE_PROXY_SOCKET"). */
export const SOCKET_VARIABLE = 'GREENLAKE_PROXY_SOCKET';
/** A token for tools that insist on one: good at exec's own proxy only, for as long as it runs. */
export const TOKEN_VARIABLE = 'GREENLAKE_PROXY_TOKEN';

/** What greenlake-proxy reads that carries a credential: never the child's. */
const SECRET_VARIABLES = ['GREENLAKE_CLIENT_SECRET', 'GREENLAKE_CLIENT_SECRET_FILE', 'GREENLAKE_PROXY_REDIS_KEY', 'GREENLAKE_PROXY_REDIS_URL'];

/** A secret this long is not found inside an unrelated value by chance. */
const MIN_CONTAINED_SECRET = 8;

/**
 * `/com/us-west` → GREENLAKE_PROXY_URL_COM_US_WEST: upper case, every run of other characters
 * than letters and digits one `_`.
 */
export function prefixVariable(prefix: string): string {
  return `${URL_VARIABLE}_${prefix.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
}

/** A route on a port of its own (`port: 9443`) → GREENLAKE_PROXY_URL_PORT_9443, whatever free port exec gave it. */
export function portVariable(port: number): string {
  return `${URL_VARIABLE}_PORT_${port}`;
}

export interface RouteUrls {
  /** The main listener: `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** Route name (its prefix, or `port:<n>`) → the URL of its own listener. */
  readonly portUrls: ReadonlyMap<string, string>;
}

/** One variable per route and per route port; two routes whose names give the same variable get none (named in `ambiguous`). */
export function routeVariables(config: ProxyConfig, urls: RouteUrls): { variables: Record<string, string>; ambiguous: string[] } {
  const found = new Map<string, string[]>();
  const add = (name: string, value: string | undefined): void => {
    if (value !== undefined) found.set(name, [...(found.get(name) ?? []), value]);
  };
  for (const route of config.routes) {
    if (route.prefix !== undefined) add(prefixVariable(route.prefix), `${urls.url}${route.prefix}`);
    if (route.port !== undefined) add(portVariable(route.port), urls.portUrls.get(route.prefix ?? `port:${route.port}`));
  }
  const variables: Record<string, string> = { [URL_VARIABLE]: urls.url };
  const ambiguous: string[] = [];
  for (const [name, values] of found) {
    if (values.length === 1) variables[name] = values[0]!;
    else ambiguous.push(name);
  }
  return { variables, ambiguous };
}

/**
 * The parent's environment without what could reach the API client's rights: the variables
 * greenlake-proxy takes a secret from, those the config file's secrets were interpolated from,
 * any whose value is (or holds) a loaded secret, and a previous exec's URLs and token; then
 * `added`.
 */
export function childEnvironment(parent: Env, config: ProxyConfig, secrets: readonly string[], added: Readonly<Record<string, string>>): Record<string, string> {
  const names = new Set([...SECRET_VARIABLES, ...(config.secretVariables ?? [])]);
  const child: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || names.has(name) || isOwnVariable(name) || holdsSecret(value, secrets)) continue;
    child[name] = value;
  }
  return { ...child, ...loopbackNoProxy(parent), ...added };
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'];
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost'];

/**
 * With a corporate proxy in the environment, NO_PROXY and no_proxy gain 127.0.0.1 and localhost:
 * a client that does not skip loopback by itself would send its requests for exec's proxy there.
 */
export function loopbackNoProxy(parent: Env): Record<string, string> {
  if (!PROXY_VARIABLES.some((name) => (parent[name] ?? '') !== '')) return {};
  const result: Record<string, string> = {};
  for (const name of ['NO_PROXY', 'no_proxy']) {
    const listed = (parent[name] ?? '').split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
    result[name] = [...listed, ...LOOPBACK_NAMES.filter((host) => !listed.includes(host))].join(',');
  }
  return result;
}

function isOwnVariable(name: string): boolean {
  return name === TOKEN_VARIABLE || name === SOCKET_VARIABLE || name === URL_VARIABLE || name.startsWith(`${URL_VARIABLE}_`);
}

function holdsSecret(value: string, secrets: readonly string[]): boolean {
  return secrets.some((secret) => secret !== '' && (value === secret || (secret.length >= MIN_CONTAINED_SECRET && value.includes(secret))));
}

/** The client secrets (files read now), store.redis's key and its URL's password: what the child's environment must not hold. */
export function secretValues(config: ProxyConfig, clientSecrets: readonly string[]): string[] {
  const redis = config.store?.redis;
  const password = redis === undefined ? '' : URL.parse(redis.url)?.password ?? '';
  return [...clientSecrets, ...(redis === undefined ? [] : [redis.encryptionKey, password, decoded(password)])].filter((s) => s !== '');
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
