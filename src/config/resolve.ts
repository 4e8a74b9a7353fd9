import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { catalog, findCatalogEntry } from './catalog.ts';
import { errorCode, type Problem } from './errors.ts';
import { interpolateEnvironment, type Environment } from './interpolate.ts';
import {
  DEFAULT_SOCKET_MODE,
  LISTEN_DEFAULTS,
  SAFE_METHODS,
  MAX_SOCKET_PATH_BYTES,
  TOKEN_DEFAULTS,
  checkClientName,
  checkEncryptionKey,
  checkKeyHash,
  checkPrefix,
  checkWorkspaceId,
  defaultTenantTokenUrl,
  isLoopbackAddress,
  normalWorkspaceId,
  parseShape,
  parseSocketMode,
  socketOpenToOthers,
  withNormalWorkspaceId,
  type ParsedAccess,
  type ParsedClient,
  type ParsedConfig,
  type ParsedInbound,
  type ParsedRoute,
} from './schema.ts';
import type { AccessConfig, ClientConfig, InboundConfig, ListenConfig, ListenOverride, ProxyConfig, RouteConfig, SecretSource, StoreConfig } from './types.ts';

export interface ResolveOptions {
  readonly env: Environment;
  /** Stored as ProxyConfig.source. */
  readonly source: string;
  /** Environment values are taken literally; only configuration files get `${VAR}` interpolation. */
  readonly interpolate: boolean;
  /**
   * Host/port or socket from the environment or command line; they win over the configuration's
   * `listen`, except that host/port never replace the file's socket (see overrideListen).
   */
  readonly listen?: ListenInput;
  /** What set each value of `listen` above (`GREENLAKE_PROXY_HOST`, `--port`): named in problems and overrides. */
  readonly listenSetBy?: ListenSetBy;
  /** Relative caFile, clientSecretFile and listen.tls paths are resolved against this (the config file's directory). */
  readonly baseDir?: string;
  /** `--allow-unauthenticated`: the same as inbound.allowUnauthenticated: true. */
  readonly allowUnauthenticated?: boolean;
}

export interface ListenSetBy {
  readonly host?: string;
  readonly port?: string;
  readonly socket?: string;
}

/** The listen address the environment or command line give: host and port, or a socket path. */
export interface ListenInput {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  readonly socket?: string | undefined;
}

export type Resolution =
  | { readonly ok: true; readonly config: ProxyConfig }
  | { readonly ok: false; readonly problems: readonly Problem[] };

/** Validates a parsed configuration object and fills in every default. Collects all problems. */
export function resolveConfig(raw: unknown, options: ResolveOptions): Resolution {
  const interpolated = options.interpolate ? interpolateEnvironment(raw, options.env) : { value: raw, problems: [], references: [] };
  const withListen = overrideStore(
    allowUnauthenticated(overrideListen(interpolated.value, options.listen), options.allowUnauthenticated),
    options.env,
  );
  const shape = parseShape(withListen);
  const problems = [
    ...interpolated.problems,
    ...withoutPaths(shape.ok ? [] : shape.problems, interpolated.problems),
    ...withoutPaths(checkRelations(withListen, options.baseDir).map((p) => namingListenSource(p, interpolated.value, options.listenSetBy)), interpolated.problems),
  ];
  if (problems.length > 0 || !shape.ok) return { ok: false, problems };
  const listenOverrides = overriddenListenValues(interpolated.value, shape.data.listen, options.listenSetBy);
  const secretVariables = [...new Set(interpolated.references.filter((r) => isSecretPath(r.path)).map((r) => r.name))];
  const listenIgnored = ignoredListenValues(interpolated.value, options.listenSetBy);
  return { ok: true, config: buildConfig(shape.data, options, listenOverrides, listenIgnored, secretVariables) };
}

/** Keys whose values are credentials, or lead to them (a secret's file, a Redis URL with its password). */
const SECRET_PATHS = [/^clients\[\d+\]\.clientSecret(File)?$/, /^store\.redis\.(url|encryptionKey|encryptionKeyFile)$/];

function isSecretPath(path: string): boolean {
  return SECRET_PATHS.some((pattern) => pattern.test(path));
}

const LISTEN_KEYS: Readonly<Record<string, keyof ListenSetBy>> = { 'listen.host': 'host', 'listen.port': 'port', 'listen.socket': 'socket' };

/** A problem with a listen value the environment or a flag set says so: the file may say otherwise. */
function namingListenSource(problem: Problem, raw: unknown, setBy: ListenSetBy | undefined): Problem {
  const key = LISTEN_KEYS[problem.path];
  const by = key === undefined ? undefined : setBy?.[key];
  if (key === undefined || by === undefined) return problem;
  const inFile = isRecord(raw) && isRecord(raw['listen']) && raw['listen'][key] !== undefined;
  return { path: problem.path, message: `${problem.message} (${problem.path} set by ${by}${inFile ? `, which replaces the config file's` : ''})` };
}

function overriddenListenValues(raw: unknown, listen: ParsedConfig['listen'], setBy: ListenSetBy | undefined): ListenOverride[] {
  const fromFile = isRecord(raw) && isRecord(raw['listen']) ? raw['listen'] : {};
  if (setBy?.socket !== undefined && listen.socket !== undefined) {
    const fileAddress = fromFile['host'] !== undefined || fromFile['port'] !== undefined ? `${String(fromFile['host'] ?? LISTEN_DEFAULTS.host)}:${String(fromFile['port'] ?? LISTEN_DEFAULTS.port)}` : undefined;
    const fileValue = typeof fromFile['socket'] === 'string' ? fromFile['socket'] : fileAddress;
    if (fileValue === undefined || fileValue === listen.socket) return [];
    return [{ key: 'listen.socket', value: listen.socket, setBy: setBy.socket, fileValue }];
  }
  return (['host', 'port'] as const).flatMap((key) => {
    const by = setBy?.[key];
    const fileValue = fromFile[key];
    if (by === undefined || (typeof fileValue !== 'string' && typeof fileValue !== 'number') || fileValue === listen[key]) return [];
    return [{ key: `listen.${key}` as const, value: listen[key], setBy: by, fileValue }];
  });
}

/** A value that failed interpolation would only produce a second, confusing problem. */
function withoutPaths(problems: readonly Problem[], skip: readonly Problem[]): Problem[] {
  const skipped = new Set(skip.map((problem) => problem.path));
  return problems.filter((problem) => !skipped.has(problem.path));
}

/** --host/--port or GREENLAKE_PROXY_HOST/_PORT that a config file's listen.socket leaves unused. */
function ignoredListenValues(raw: unknown, setBy: ListenSetBy | undefined): string[] {
  const fileSocket = isRecord(raw) && isRecord(raw['listen']) ? raw['listen']['socket'] : undefined;
  if (fileSocket === undefined || setBy === undefined || setBy.socket !== undefined) return [];
  return [setBy.host, setBy.port].filter((by) => by !== undefined);
}

/**
 * A socket from the environment or a flag replaces the file's whole address (host and port);
 * host or port from there never replace the file's socket: a container's GREENLAKE_PROXY_HOST
 * must not silently turn a private socket into a TCP listener (they are logged as ignored).
 */
function overrideListen(raw: unknown, listen: ListenInput | undefined): unknown {
  if (listen === undefined || !isRecord(raw)) return raw;
  const fromFile = raw['listen'] === undefined ? {} : raw['listen'];
  if (!isRecord(fromFile)) return raw;
  const given = definedOnly(listen);
  if (given.socket !== undefined) {
    const { host: _host, port: _port, ...rest } = fromFile;
    return { ...raw, listen: { ...rest, socket: given.socket } };
  }
  if (fromFile['socket'] !== undefined) return raw;
  return { ...raw, listen: { ...fromFile, ...given } };
}

function allowUnauthenticated(raw: unknown, allow: boolean | undefined): unknown {
  if (allow !== true || !isRecord(raw)) return raw;
  const fromFile = raw['inbound'] === undefined ? {} : raw['inbound'];
  if (!isRecord(fromFile)) return raw;
  return { ...raw, inbound: { ...fromFile, allowUnauthenticated: true } };
}

/** GREENLAKE_PROXY_REDIS_URL and GREENLAKE_PROXY_REDIS_KEY win over store.redis.url and its key. */
function overrideStore(raw: unknown, env: Environment): unknown {
  const url = env['GREENLAKE_PROXY_REDIS_URL'] || undefined;
  const key = env['GREENLAKE_PROXY_REDIS_KEY'] || undefined;
  if ((url === undefined && key === undefined) || !isRecord(raw)) return raw;
  const store = raw['store'] === undefined ? {} : raw['store'];
  if (!isRecord(store)) return raw;
  const redis = store['redis'] === undefined ? {} : store['redis'];
  if (!isRecord(redis)) return raw;
  const merged: Record<string, unknown> = { ...redis, ...definedOnly({ url }) };
  if (key !== undefined) {
    merged['encryptionKey'] = key;
    delete merged['encryptionKeyFile'];
  }
  return { ...raw, store: { ...store, redis: merged } };
}

// ---------------------------------------------------------------------------------------------
// Rules across fields. They run on the raw object even when parts of it are malformed, so one
// run reports everything; each rule looks only at values that have the right type.

function checkRelations(raw: unknown, baseDir: string | undefined): Problem[] {
  if (!isRecord(raw)) return [];
  const clients = Array.isArray(raw['clients']) ? raw['clients'] : undefined;
  const routes = Array.isArray(raw['routes']) ? raw['routes'] : [];
  const listen = isRecord(raw['listen']) ? raw['listen'] : {};
  const onSocket = listen['socket'] !== undefined;
  // On a socket the main listener has no port to collide with.
  const listenPort = onSocket ? 0 : listen['port'];
  const inbound = isRecord(raw['inbound']) ? raw['inbound'] : {};
  return [
    ...checkSecretPairs(clients ?? []),
    ...checkUniqueClientNames(clients ?? []),
    ...routes.flatMap((route, index) => checkRoute(route, `routes[${index}]`, clients)),
    ...(clients ?? []).flatMap((client, index) => checkTenants(client, `clients[${index}]`)),
    ...(clients ?? []).flatMap((client, index) => checkBasicEncoding(client, `clients[${index}]`)),
    ...routes.flatMap((route, index) => checkRouteTenant(route, `routes[${index}]`, clients)),
    ...checkUniqueRouteValues(routes, 'prefix', (value) => typeof value === 'string' && checkPrefix(value) === undefined),
    ...checkUniqueRouteValues(routes, 'port', isPortNumber),
    ...checkRoutePortsAgainstListen(routes, listenPort),
    ...checkAdminPort(raw['admin'], listenPort, routes),
    ...checkBackoff(raw['tokens']),
    ...checkReadableFile(raw['caFile'], 'caFile', baseDir),
    ...checkStoreKey(raw['store'], baseDir),
    ...checkTlsFiles(listen['tls'], baseDir),
    ...checkSocketListen(listen, routes, baseDir),
    ...(onSocket ? checkOpenSocket(listen['mode'], inbound) : checkUnauthenticatedExposure(listen['host'], inbound)),
    ...checkApiKeys(inbound['apiKeys'], clients, routeNames(raw['routes'])),
    ...checkJwtClients(inbound['jwt'], clients),
    ...checkJwtAccess(inbound['jwt']),
    ...ruleHolders(routes, inbound).flatMap(([holder, at]) => checkWritesUnderReadOnly(holder, at)),
    ...checkLocalTokenClients(inbound),
  ];
}

/**
 * localTokens.clients guard the token endpoint of a proxy without inbound authentication. With
 * apiKeys or jwt the caller's key or JWT is the secret, so a stand-in carries its rights: a
 * second set of credentials there would issue stand-ins bound to nobody.
 */
function checkLocalTokenClients(inbound: Record<string, unknown>): Problem[] {
  const localTokens = isRecord(inbound['localTokens']) ? inbound['localTokens'] : {};
  const clients = localTokens['clients'];
  if (!Array.isArray(clients)) return [];
  const at = 'inbound.localTokens.clients';
  const hasApiKeys = Array.isArray(inbound['apiKeys']) && inbound['apiKeys'].length > 0;
  if (hasApiKeys || inbound['jwt'] !== undefined) {
    return [{ path: at, message: 'not with inbound.apiKeys or inbound.jwt: token requests then present the API key or JWT as client_secret (leave clients out)' }];
  }
  if (localTokens['enabled'] === false) return [{ path: at, message: 'has no effect with enabled: false (leave it out)' }];
  const ids = clients.map((client) => (isRecord(client) ? client['clientId'] : undefined));
  return duplicates(ids, (id) => typeof id === 'string').map(([first, second]) => ({
    path: `${at}[${second}].clientId`,
    message: `duplicates ${at}[${first}].clientId`,
  }));
}

const EXPOSED_WITHOUT_AUTHENTICATION =
  'not a loopback address, and no inbound authentication is configured: anyone who can connect would act with ' +
  "the API clients' full rights. Configure inbound.apiKeys or inbound.jwt, or accept this deliberately with " +
  '--allow-unauthenticated (inbound.allowUnauthenticated: true)';

/** Checked on the final host, after --host and GREENLAKE_PROXY_HOST. */
function checkUnauthenticatedExposure(host: unknown, inbound: Record<string, unknown>): Problem[] {
  const address = host ?? LISTEN_DEFAULTS.host;
  if (typeof address !== 'string' || address === '' || isLoopbackAddress(address)) return [];
  if (hasInboundAuthentication(inbound)) return [];
  return [{ path: 'listen.host', message: EXPOSED_WITHOUT_AUTHENTICATION }];
}

/** A socket other users may connect to is like a listener beyond loopback; owner and group only, like loopback. */
function checkOpenSocket(modeValue: unknown, inbound: Record<string, unknown>): Problem[] {
  const mode = typeof modeValue === 'string' || typeof modeValue === 'number' ? parseSocketMode(modeValue) : DEFAULT_SOCKET_MODE;
  if (typeof mode !== 'number' || !socketOpenToOthers(mode) || hasInboundAuthentication(inbound)) return [];
  const message =
    'lets every user of this machine connect to the socket (its last digit is not 0), and no inbound authentication is configured: ' +
    "they would act with the API clients' full rights. Use a mode such as 0600 or 0660, configure inbound.apiKeys or inbound.jwt, or accept " +
    'this deliberately with --allow-unauthenticated (inbound.allowUnauthenticated: true)';
  return [{ path: 'listen.mode', message }];
}

function hasInboundAuthentication(inbound: Record<string, unknown>): boolean {
  const hasKeys = Array.isArray(inbound['apiKeys']) && inbound['apiKeys'].length > 0;
  return hasKeys || isRecord(inbound['jwt']) || inbound['allowUnauthenticated'] === true;
}

/**
 * listen.socket replaces host:port for the main listener: host, port or tls beside it are
 * refused rather than half used, and so are route ports (they would listen on TCP after all).
 */
function checkSocketListen(listen: Record<string, unknown>, routes: readonly unknown[], baseDir: string | undefined): Problem[] {
  const socket = listen['socket'];
  if (socket === undefined) return listen['mode'] === undefined ? [] : [{ path: 'listen.mode', message: 'only with listen.socket' }];
  const beside = ['host', 'port', 'tls'].filter((key) => listen[key] !== undefined);
  const problems: Problem[] = beside.map((key) => ({
    path: `listen.${key}`,
    message: 'not with listen.socket: the main listener serves on the socket instead of TCP (leave one of them out)',
  }));
  if (typeof socket === 'string' && socket !== '' && Buffer.byteLength(socketPath(socket, baseDir)) > MAX_SOCKET_PATH_BYTES) {
    problems.push({ path: 'listen.socket', message: `too long for a Unix socket: at most ${MAX_SOCKET_PATH_BYTES} bytes as an absolute path (choose a shorter one)` });
  }
  routes.forEach((route, index) => {
    if (isRecord(route) && route['port'] !== undefined) {
      problems.push({ path: `routes[${index}].port`, message: 'not with listen.socket: route ports listen on TCP (serve the route by its prefix on the socket)' });
    }
  });
  return problems;
}

/** Names that apiKeys[].routes may use: every prefix, and `port:<n>` for routes without one. */
function routeNames(routes: unknown): string[] {
  if (!Array.isArray(routes)) return catalog.map((entry) => entry.prefix);
  return routes.flatMap((route): string[] => {
    if (!isRecord(route)) return [];
    if (typeof route['prefix'] === 'string') return [route['prefix']];
    return isPortNumber(route['port']) ? [`port:${route['port']}`] : [];
  });
}

function checkApiKeys(apiKeys: unknown, clients: readonly unknown[] | undefined, routes: readonly string[]): Problem[] {
  if (!Array.isArray(apiKeys)) return [];
  const keyAt = (index: number): string => `inbound.apiKeys[${index}]`;
  const perKey = apiKeys.flatMap((key, index): Problem[] => {
    if (!isRecord(key)) return [];
    return [
      ...unknownNames(key['clients'], clients === undefined ? undefined : clientNames(clients), `${keyAt(index)}.clients`, 'client'),
      ...unknownNames(key['routes'], routes, `${keyAt(index)}.routes`, 'route'),
    ];
  });
  const field = (name: string) => apiKeys.map((key) => (isRecord(key) ? key[name] : undefined));
  const validName = (value: unknown) => typeof value === 'string' && checkClientName(value) === undefined;
  const validHash = (value: unknown) => typeof value === 'string' && checkKeyHash(value) === undefined;
  return [
    ...perKey,
    ...duplicates(field('name'), validName).map(([first, again]) => ({
      path: `${keyAt(again)}.name`,
      message: `duplicate: inbound.apiKeys[${first}] has the same name`,
    })),
    ...duplicates(field('keyHash'), validHash).map(([first, again]) => ({
      path: `${keyAt(again)}.keyHash`,
      message: `duplicate: inbound.apiKeys[${first}] has the same key`,
    })),
  ];
}

function checkJwtClients(jwt: unknown, clients: readonly unknown[] | undefined): Problem[] {
  if (!isRecord(jwt) || !isRecord(jwt['clients']) || clients === undefined) return [];
  const known = clientNames(clients);
  return Object.entries(jwt['clients']).flatMap(([value, names]) =>
    unknownNames(names, known, `inbound.jwt.clients.${value}`, 'client'),
  );
}

/** Everything that can carry readOnly and allow, with its key path. */
function ruleHolders(routes: readonly unknown[], inbound: Record<string, unknown>): Array<[unknown, string]> {
  const keys = Array.isArray(inbound['apiKeys']) ? inbound['apiKeys'] : [];
  const jwt = isRecord(inbound['jwt']) ? inbound['jwt'] : {};
  const access = isRecord(jwt['access']) ? jwt['access'] : {};
  return [
    ...routes.map((route, index): [unknown, string] => [route, `routes[${index}]`]),
    ...keys.map((key, index): [unknown, string] => [key, `inbound.apiKeys[${index}]`]),
    ...Object.entries(access).map(([value, rules]): [unknown, string] => [rules, `inbound.jwt.access.${value}`]),
  ];
}

/** Under readOnly, an allow rule for writes only can never apply: the configuration says two things. */
function checkWritesUnderReadOnly(holder: unknown, at: string): Problem[] {
  if (!isRecord(holder) || holder['readOnly'] !== true || !Array.isArray(holder['allow'])) return [];
  return holder['allow'].flatMap((rule, index): Problem[] => {
    const methods = isRecord(rule) ? rule['methods'] : undefined;
    if (!Array.isArray(methods) || methods.length === 0 || methods.some((method) => (SAFE_METHODS as readonly unknown[]).includes(method))) return [];
    return [{ path: `${at}.allow[${index}].methods`, message: `readOnly lets only ${SAFE_METHODS.join(', ')} through: this rule can never apply` }];
  });
}

/** jwt.access names claim values: one that jwt.clients does not map grants nothing its rules could narrow. */
function checkJwtAccess(jwt: unknown): Problem[] {
  if (!isRecord(jwt) || !isRecord(jwt['access']) || !isRecord(jwt['clients'])) return [];
  const mapped = jwt['clients'];
  return Object.keys(jwt['access'])
    .filter((value) => !Object.hasOwn(mapped, value))
    .map((value) => ({ path: `inbound.jwt.access.${value}`, message: 'is not a claim value of inbound.jwt.clients: its rules would narrow nothing' }));
}

/** `what` names in `list` that are not among `known` (undefined: nothing to compare with). */
function unknownNames(list: unknown, known: readonly string[] | undefined, at: string, what: string): Problem[] {
  if (!Array.isArray(list) || known === undefined) return [];
  return list.flatMap((name, index): Problem[] =>
    typeof name === 'string' && name !== '' && !known.includes(name)
      ? [{ path: `${at}[${index}]`, message: `no ${what} named ${JSON.stringify(name)}` }]
      : [],
  );
}

function checkSecretPairs(clients: readonly unknown[]): Problem[] {
  return clients.flatMap((client, index): Problem[] => {
    if (!isRecord(client)) return [];
    const hasValue = client['clientSecret'] !== undefined;
    const hasFile = client['clientSecretFile'] !== undefined;
    if (hasValue && hasFile) return [{ path: `clients[${index}]`, message: 'needs clientSecret or clientSecretFile, not both' }];
    if (!hasValue && !hasFile) return [{ path: `clients[${index}]`, message: 'needs clientSecret or clientSecretFile' }];
    return [];
  });
}

function checkUniqueClientNames(clients: readonly unknown[]): Problem[] {
  const names = clients.map((client) => (isRecord(client) ? client['name'] : undefined));
  return duplicates(names, (name) => typeof name === 'string' && checkClientName(name) === undefined).map(([first, again]) => ({
    path: `clients[${again}].name`,
    message: `duplicate: clients[${first}] has the same name`,
  }));
}

function checkRoute(route: unknown, at: string, clients: readonly unknown[] | undefined): Problem[] {
  if (!isRecord(route)) return [];
  const problems: Problem[] = [];
  const { prefix, port, upstream, client } = route;
  if (prefix === undefined && port === undefined) problems.push({ path: at, message: 'needs a prefix or a port (or both)' });
  if (upstream === undefined) {
    if (typeof prefix === 'string' && checkPrefix(prefix) === undefined && findCatalogEntry(prefix) === undefined) {
      problems.push({ path: `${at}.upstream`, message: `missing (prefix ${prefix} is not in the catalog)` });
    } else if (prefix === undefined && port !== undefined) {
      problems.push({ path: `${at}.upstream`, message: 'missing (a route without a prefix has no catalog entry)' });
    }
  }
  if (typeof client === 'string' && client !== '' && clients !== undefined && !clientNames(clients).includes(client)) {
    problems.push({ path: `${at}.client`, message: `no client named ${JSON.stringify(client)}` });
  }
  return problems;
}

/** Tenant names and workspace IDs must each be unique, and never one another: X-GreenLake-Workspace takes either. */
function checkTenants(client: unknown, at: string): Problem[] {
  if (!isRecord(client)) return [];
  const tenants = Array.isArray(client['tenants']) ? client['tenants'] : [];
  if (tenants.length === 0) {
    return client['tenantTokenUrl'] === undefined ? [] : [{ path: `${at}.tenantTokenUrl`, message: 'has no use without tenants' }];
  }
  const field = (name: string) => tenants.map((tenant) => (isRecord(tenant) ? tenant[name] : undefined));
  const names = field('name');
  const ids = field('workspaceId').map((id) => (typeof id === 'string' && checkWorkspaceId(id) === undefined ? normalWorkspaceId(id) : undefined));
  const tenantAt = (index: number): string => `${at}.tenants[${index}]`;
  const problems: Problem[] = [
    ...duplicates(names, (name) => typeof name === 'string' && checkClientName(name) === undefined).map(([first, again]) => ({
      path: `${tenantAt(again)}.name`,
      message: `duplicate: ${tenantAt(first)} has the same name`,
    })),
    ...duplicates(ids, (id) => id !== undefined).map(([first, again]) => ({
      path: `${tenantAt(again)}.workspaceId`,
      message: `duplicate: ${tenantAt(first)} has the same workspace ID`,
    })),
  ];
  names.forEach((name, index) => {
    const other = typeof name === 'string' ? ids.indexOf(normalWorkspaceId(name)) : -1;
    if (other !== -1 && other !== index) {
      problems.push({ path: `${tenantAt(index)}.name`, message: `is the workspace ID of ${tenantAt(other)}: X-GreenLake-Workspace could not tell them apart` });
    }
  });
  return problems;
}

/** basicEncoding belongs to client_secret_basic; raw cannot carry a client ID with `:` (RFC 7617 splits at the first one). */
function checkBasicEncoding(client: unknown, at: string): Problem[] {
  if (!isRecord(client) || client['basicEncoding'] === undefined) return [];
  if (client['authMethod'] !== 'client_secret_basic') {
    return [{ path: `${at}.basicEncoding`, message: 'applies only to authMethod: client_secret_basic' }];
  }
  const id = client['clientId'];
  if (client['basicEncoding'] === 'raw' && typeof id === 'string' && id.includes(':')) {
    return [{ path: `${at}.clientId`, message: 'contains ":", which basicEncoding: raw cannot send (use form)' }];
  }
  return [];
}

/** routes[].tenant names a tenant of the route's client; routes[].tenantHeader needs a client with tenants. */
function checkRouteTenant(route: unknown, at: string, clients: readonly unknown[] | undefined): Problem[] {
  if (!isRecord(route) || clients === undefined) return [];
  const { tenant, tenantHeader } = route;
  if (tenant === undefined && tenantHeader !== true) return [];
  const first = clients[0];
  const clientName = route['client'] ?? (isRecord(first) ? first['name'] : undefined);
  const client = clients.find((c) => isRecord(c) && c['name'] === clientName);
  // An unknown or missing client is reported on its own.
  if (typeof clientName !== 'string' || !isRecord(client)) return [];
  const tenants = Array.isArray(client['tenants']) ? client['tenants'] : [];
  const tenantNames = tenants.flatMap((t) => (isRecord(t) && typeof t['name'] === 'string' ? [t['name']] : []));
  const problems: Problem[] = [];
  const none = `client ${JSON.stringify(clientName)} declares no tenants (clients[].tenants)`;
  if (typeof tenant === 'string' && tenant !== '' && !tenantNames.includes(tenant)) {
    problems.push({
      path: `${at}.tenant`,
      message: tenantNames.length === 0 ? none : `client ${JSON.stringify(clientName)} has no tenant named ${JSON.stringify(tenant)}`,
    });
  }
  if (tenantHeader === true && tenants.length === 0) problems.push({ path: `${at}.tenantHeader`, message: none });
  return problems;
}

function clientNames(clients: readonly unknown[]): string[] {
  return clients.flatMap((client) => (isRecord(client) && typeof client['name'] === 'string' ? [client['name']] : []));
}

function checkUniqueRouteValues(routes: readonly unknown[], key: 'prefix' | 'port', isValid: (value: unknown) => boolean): Problem[] {
  const values = routes.map((route) => (isRecord(route) ? route[key] : undefined));
  return duplicates(values, isValid).map(([first, again]) => ({
    path: `routes[${again}].${key}`,
    message: `duplicate: routes[${first}] has the same ${key}`,
  }));
}

function checkAdminPort(admin: unknown, listenPort: unknown, routes: readonly unknown[]): Problem[] {
  if (!isRecord(admin) || typeof admin['port'] !== 'number' || admin['port'] === 0) return [];
  const taken = [listenPort ?? LISTEN_DEFAULTS.port, ...routes.map((r) => (isRecord(r) ? r['port'] : undefined))];
  return taken.includes(admin['port']) ? [{ path: 'admin.port', message: 'must differ from listen.port and the route ports' }] : [];
}

function checkRoutePortsAgainstListen(routes: readonly unknown[], listenPort: unknown): Problem[] {
  // listen.port 0 means "any free port", which cannot collide with a fixed one.
  const mainPort = listenPort ?? LISTEN_DEFAULTS.port;
  if (!isPortNumber(mainPort) || mainPort === 0) return [];
  return routes.flatMap((route, index): Problem[] =>
    isRecord(route) && route['port'] === mainPort ? [{ path: `routes[${index}].port`, message: 'must differ from listen.port' }] : [],
  );
}

function checkBackoff(tokens: unknown): Problem[] {
  if (!isRecord(tokens)) return [];
  const base = tokens['backoffBaseMs'] ?? TOKEN_DEFAULTS.backoffBaseMs;
  const max = tokens['backoffMaxMs'] ?? TOKEN_DEFAULTS.backoffMaxMs;
  // An invalid value has its own problem already; compare only two sound ones.
  if (!isPositiveInteger(base) || !isPositiveInteger(max) || max >= base) return [];
  return [{ path: 'tokens.backoffMaxMs', message: 'must be at least tokens.backoffBaseMs' }];
}

function checkTlsFiles(tls: unknown, baseDir: string | undefined): Problem[] {
  if (!isRecord(tls)) return [];
  return [
    ...checkReadableFile(tls['certFile'], 'listen.tls.certFile', baseDir),
    ...checkReadableFile(tls['keyFile'], 'listen.tls.keyFile', baseDir),
  ];
}

function checkReadableFile(name: unknown, at: string, baseDir: string | undefined): Problem[] {
  if (typeof name !== 'string' || name === '') return [];
  const file = resolvePath(name, baseDir);
  try {
    if (statSync(file).isDirectory()) return [{ path: at, message: `cannot read ${file} (EISDIR)` }];
    accessSync(file, constants.R_OK);
    return [];
  } catch (error) {
    return [{ path: at, message: `cannot read ${file} (${errorCode(error)})` }];
  }
}

const STORE_WITHOUT_KEY =
  'needs encryptionKey or encryptionKeyFile (32 random bytes in base64, e.g. openssl rand -base64 32; ' +
  'or GREENLAKE_PROXY_REDIS_KEY): tokens are never stored in Redis unencrypted';

/** A Redis store refuses to start without a valid encryption key; the key file's content is checked here. */
function checkStoreKey(store: unknown, baseDir: string | undefined): Problem[] {
  if (!isRecord(store) || !isRecord(store['redis'])) return [];
  const redis = store['redis'];
  const hasValue = redis['encryptionKey'] !== undefined;
  const hasFile = redis['encryptionKeyFile'] !== undefined;
  if (hasValue && hasFile) return [{ path: 'store.redis', message: 'needs encryptionKey or encryptionKeyFile, not both' }];
  if (!hasValue && !hasFile) return [{ path: 'store.redis', message: STORE_WITHOUT_KEY }];
  const file = redis['encryptionKeyFile'];
  if (typeof file !== 'string' || file === '') return [];
  const at = 'store.redis.encryptionKeyFile';
  const unreadable = checkReadableFile(file, at, baseDir);
  if (unreadable.length > 0) return unreadable;
  const message = checkEncryptionKey(readFileSync(resolvePath(file, baseDir), 'utf8'));
  return message === undefined ? [] : [{ path: at, message: `content ${message}` }];
}

/** Pairs [index of first occurrence, index of a later repeat] among the values that pass `isValid`. */
function duplicates(values: readonly unknown[], isValid: (value: unknown) => boolean): Array<[number, number]> {
  const firstSeen = new Map<unknown, number>();
  const found: Array<[number, number]> = [];
  values.forEach((value, index) => {
    if (!isValid(value)) return;
    const first = firstSeen.get(value);
    if (first === undefined) firstSeen.set(value, index);
    else found.push([first, index]);
  });
  return found;
}

// ---------------------------------------------------------------------------------------------
// Building the resolved configuration from a valid one.

function buildConfig(
  data: ParsedConfig,
  options: ResolveOptions,
  listenOverrides: readonly ListenOverride[],
  listenIgnored: readonly string[],
  secretVariables: readonly string[],
): ProxyConfig {
  const clients = data.clients.map((client) => buildClient(client, options.baseDir));
  const defaultClient = clients[0]?.name ?? '';
  const routes = data.routes === undefined ? catalogRoutes(defaultClient) : data.routes.map((route) => buildRoute(route, defaultClient));
  return deepFreeze({
    listen: buildListen(data.listen, options.baseDir),
    admin: data.admin,
    inbound: buildInbound(data.inbound),
    clients,
    routes,
    timeouts: data.timeouts,
    tokens: data.tokens,
    rateLimits: data.rateLimits,
    store: buildStore(data.store, options.baseDir),
    caFile: data.caFile === undefined ? undefined : resolvePath(data.caFile, options.baseDir),
    source: options.source,
    ...(listenOverrides.length > 0 && { listenOverrides }),
    ...(listenIgnored.length > 0 && { listenIgnored }),
    ...(secretVariables.length > 0 && { secretVariables }),
  });
}

function buildStore(store: ParsedConfig['store'], baseDir: string | undefined): StoreConfig | undefined {
  if (store === undefined) return undefined;
  const { url, keyPrefix, encryptionKey, encryptionKeyFile, commandTimeoutMs, lockTtlMs } = store.redis;
  // Checked by checkStoreKey: exactly one of the two is set and valid.
  const key = encryptionKey ?? readFileSync(resolvePath(encryptionKeyFile as string, baseDir), 'utf8');
  return { redis: { url, keyPrefix, encryptionKey: key.trim(), commandTimeoutMs, lockTtlMs } };
}

function buildListen(listen: ParsedConfig['listen'], baseDir: string | undefined): ListenConfig {
  if (listen.socket !== undefined) {
    return { host: listen.host, port: listen.port, socket: { path: socketPath(listen.socket, baseDir), mode: listen.mode ?? DEFAULT_SOCKET_MODE } };
  }
  if (listen.tls === undefined) return { host: listen.host, port: listen.port };
  const tls = { certFile: resolvePath(listen.tls.certFile, baseDir), keyFile: resolvePath(listen.tls.keyFile, baseDir) };
  return { host: listen.host, port: listen.port, tls };
}

function buildInbound(inbound: ParsedInbound): InboundConfig {
  return {
    allowUnauthenticated: inbound.allowUnauthenticated,
    allowedHosts: inbound.allowedHosts.map(normalHostName),
    allowedOrigins: inbound.allowedOrigins.map((origin) => origin.toLowerCase()),
    requireHeader: inbound.requireHeader,
    apiKeys: inbound.apiKeys.map((key) => ({
      name: key.name,
      keyHash: key.keyHash,
      clients: key.clients,
      routes: key.routes,
      methods: key.methods,
      admin: key.admin,
      ...accessOf(key),
    })),
    jwt: inbound.jwt === undefined ? undefined : { ...inbound.jwt, access: mapValues(inbound.jwt.access, accessOf) },
    rateLimit: inbound.rateLimit,
    maxHeaderBytes: inbound.maxHeaderBytes,
    localTokens: { ...inbound.localTokens, clients: inbound.localTokens.clients ?? [] },
    maxReplayMemoryBytes: inbound.maxReplayMemoryBytes,
  };
}

/** As a Host header carries it: lower case, an IPv6 address in brackets. */
function normalHostName(host: string): string {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

function buildClient(client: ParsedClient, baseDir: string | undefined): ClientConfig {
  const secret: SecretSource =
    client.clientSecret !== undefined
      ? { kind: 'value', value: client.clientSecret }
      : { kind: 'file', path: resolvePath(client.clientSecretFile ?? '', baseDir) };
  const tenants = client.tenants.map((tenant) => ({ name: tenant.name, workspaceId: normalWorkspaceId(tenant.workspaceId) }));
  const ownKeys = definedOnly({ scope: client.scope, audience: client.audience, resource: client.resource });
  return {
    name: client.name,
    clientId: client.clientId,
    secret,
    tokenUrl: withNormalWorkspaceId(client.tokenUrl),
    authMethod: client.authMethod,
    basicEncoding: client.basicEncoding ?? 'form',
    tokenParams: { ...ownKeys, ...client.tokenParams },
    tenants,
    tenantTokenUrl: tenants.length === 0 ? undefined : (client.tenantTokenUrl ?? defaultTenantTokenUrl(client.tokenUrl)),
  };
}

function buildRoute(route: ParsedRoute, defaultClient: string): RouteConfig {
  const upstream = route.upstream ?? (route.prefix === undefined ? undefined : findCatalogEntry(route.prefix)?.upstream) ?? '';
  return {
    prefix: route.prefix,
    port: route.port,
    upstream: withoutTrailingSlashes(upstream),
    client: route.client ?? defaultClient,
    region: route.region ?? route.prefix ?? `port:${route.port}`,
    tenant: route.tenant,
    tenantHeader: route.tenantHeader,
    ...accessOf(route),
  };
}

function accessOf(parsed: ParsedAccess): AccessConfig {
  return { readOnly: parsed.readOnly, allow: parsed.allow?.map((rule) => ({ methods: rule.methods, paths: rule.paths })) };
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}

function catalogRoutes(client: string): RouteConfig[] {
  return catalog.map((entry) => ({
    prefix: entry.prefix,
    port: undefined,
    upstream: entry.upstream,
    client,
    region: entry.prefix,
    tenant: undefined,
    tenantHeader: false,
    readOnly: false,
    allow: undefined,
  }));
}

/**
 * The same configuration with every route read-only (GET, HEAD and OPTIONS only), for a caller
 * that hands the proxy to a command it does not trust to write (`exec --read-only`).
 */
export function withReadOnlyRoutes(config: ProxyConfig): ProxyConfig {
  return deepFreeze({ ...config, routes: config.routes.map((route) => ({ ...route, readOnly: true })) });
}

function withoutTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

function resolvePath(file: string, baseDir: string | undefined): string {
  return baseDir === undefined ? file : path.resolve(baseDir, file);
}

/** Always absolute: the file is removed at exit by this name, whatever the working directory is then. */
function socketPath(file: string, baseDir: string | undefined): string {
  return path.resolve(baseDir ?? process.cwd(), file);
}

// ---------------------------------------------------------------------------------------------

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isPortNumber(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535;
}

export function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as Partial<T>;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
