import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, MAX_SOCKET_PATH_BYTES, readSecret, withReadOnlyRoutes, type ApiKeyConfig, type ListenConfig, type ProxyConfig } from '../config/index.ts';
import { generateKey, hashKey } from '../inbound/index.ts';
import { startGateway, type Gateway } from '../server/index.ts';
import { UsageError, type CliOptions, type Env } from './command.ts';
import { runChild } from './exec-child.ts';
import { childEnvironment, routeVariables, secretValues, SOCKET_VARIABLE, TOKEN_VARIABLE } from './exec-environment.ts';
import { loadFromCli } from './load.ts';
import { commandLogger } from './logging.ts';

/**
 * `exec -- COMMAND`: a private proxy on a free loopback port for the life of one command, which
 * gets its URLs and a token in its environment but never the client secret. Exit status: the
 * command's; 2 when the proxy cannot start (nothing runs), 127/126 when the command cannot.
 */
export async function runExec(options: CliOptions, env: Env): Promise<number> {
  // Logs on stderr, warnings and worse by default: stdout is the child's alone (an MCP server speaks JSON-RPC there).
  const logger = commandLogger(options, env, 'warn', 'stderr');
  // Loopback and a free port whatever GREENLAKE_PROXY_HOST/PORT/SOCKET say: they are for serve. exec's --socket is its own (privateListen).
  const loaded = await loadFromCli({ ...options, host: '127.0.0.1', port: options.port ?? 0, socket: undefined, allowUnauthenticated: false }, env);
  const secrets = secretValues(loaded, await Promise.all(loaded.clients.map((client) => readSecret(client))));
  const token = generateKey();
  const config = privateConfig(loaded, options, token);
  checkUrlEnv(options, config);
  const gateway = await startPrivate(config, logger);
  if (gateway === undefined) return 2;
  try {
    const added = childVariables(options, config, gateway, token, logger);
    const outcome = await runChild(options.command, childEnvironment(env, loaded, secrets, added));
    if (!outcome.ran) process.stderr.write(`greenlake-proxy: exec: ${outcome.reason}\n`);
    logger.info({ status: outcome.status, graceMs: config.timeouts.shutdownGraceMs }, 'exec: the command has ended; finishing in-flight requests');
    return outcome.status;
  } finally {
    await gateway.close();
    logger.info('stopped');
    logger.flush();
  }
}

/**
 * Only 127.0.0.1, plain http, no socket, no admin listener, route ports on free ports; with --read-only,
 * every route read-only (whoever calls). Callers must show the token when the configuration asks
 * inbound authentication of its callers (apiKeys, jwt) or --require-token does: then exec's
 * token is the one credential accepted, and stand-ins got for it at the local token endpoint.
 */
function privateConfig(config: ProxyConfig, options: CliOptions, token: string): ProxyConfig {
  const { inbound } = config;
  const tokenRequired = options.requireToken || inbound.apiKeys.length > 0 || inbound.jwt !== undefined;
  const execKey: ApiKeyConfig = {
    name: 'exec',
    keyHash: hashKey(token),
    clients: config.clients.map((c) => c.name),
    routes: undefined,
    methods: undefined,
    admin: false,
    readOnly: false,
    allow: undefined,
  };
  const scoped = options.readOnly ? withReadOnlyRoutes(config) : config;
  return {
    ...scoped,
    routes: options.socket === undefined ? scoped.routes : socketRoutes(scoped),
    listen: privateListen(options),
    admin: undefined,
    inbound: tokenRequired ? { ...inbound, apiKeys: [execKey], jwt: undefined } : inbound,
    listenOverrides: undefined,
    listenIgnored: undefined,
  };
}

/**
 * 127.0.0.1 on --port or a free port; with --socket, that socket file alone, mode 0600: no other
 * user can connect, and no TCP port is open. Neither the file's listen.socket nor
 * GREENLAKE_PROXY_SOCKET: a serve of the same configuration may hold it.
 */
function privateListen(options: CliOptions): ListenConfig {
  if (options.socket === undefined) return { host: '127.0.0.1', port: options.port ?? 0 };
  if (options.port !== undefined) throw new UsageError('--socket and --port: choose one (the proxy listens on one of them)');
  const path = resolve(options.socket);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) throw new UsageError(`--socket: too long for a Unix socket: at most ${MAX_SOCKET_PATH_BYTES} bytes as an absolute path`);
  return { host: '127.0.0.1', port: 0, socket: { path, mode: 0o600 } };
}

/** On a socket, routes are served by prefix only: one on a port of its own alone cannot be. */
function socketRoutes(config: ProxyConfig): ProxyConfig['routes'] {
  const portOnly = config.routes.filter((route) => route.prefix === undefined).map((route) => `port:${route.port}`);
  if (portOnly.length > 0) throw new UsageError(`--socket: ${portOnly.join(', ')} ${portOnly.length === 1 ? 'is a route' : 'are routes'} with a port and no prefix: it cannot be served on a socket (give it a prefix, or leave --socket out)`);
  return config.routes.map((route) => ({ ...route, port: undefined }));
}

/** Started, or undefined when it could not be (said on stderr); a port in use is runCli's to explain. */
async function startPrivate(config: ProxyConfig, logger: Logger): Promise<Gateway | undefined> {
  try {
    return await startGateway(config, logger, { ephemeralRoutePorts: true });
  } catch (err) {
    if (err instanceof ConfigError || (err as { code?: unknown }).code === 'EADDRINUSE') throw err;
    process.stderr.write(`greenlake-proxy: exec: the proxy could not start, so the command did not run: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** --url-env names a route prefix of the configuration: checked before anything starts. */
function checkUrlEnv(options: CliOptions, config: ProxyConfig): void {
  const prefixes = new Set(config.routes.flatMap((r) => (r.prefix === undefined ? [] : [r.prefix])));
  for (const { name, prefix } of options.urlEnv) {
    if (!prefixes.has(prefix)) throw new UsageError(`--url-env ${name}=${prefix}: no route has that prefix (routes: ${[...prefixes].join(', ')})`);
  }
}

function childVariables(options: CliOptions, config: ProxyConfig, gateway: Gateway, token: string, logger: Logger): Record<string, string> {
  const socket = config.listen.socket?.path;
  // On a socket, URLs name no host to connect to: clients take the socket (curl --unix-socket) and send Host: localhost.
  const base = socket === undefined ? gateway : { url: 'http://localhost', portUrls: new Map<string, string>() };
  const { variables, ambiguous } = routeVariables(config, base);
  if (socket !== undefined) variables[SOCKET_VARIABLE] = socket;
  if (ambiguous.length > 0) logger.warn({ variables: ambiguous }, 'exec: several routes give these variable names: none of them is set');
  for (const { name, prefix } of options.urlEnv) variables[name] = `${base.url}${prefix}`;
  variables[TOKEN_VARIABLE] = token;
  for (const name of options.tokenEnv) variables[name] = token;
  return variables;
}
