import { readFile } from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import { ConfigError, errorCode, formatProblem, type Problem } from './errors.ts';
import type { Environment } from './interpolate.ts';
import { definedOnly, resolveConfig, type ListenInput, type ListenSetBy, type Resolution } from './resolve.ts';
import type { ProxyConfig } from './types.ts';

export interface ListenOverrides {
  readonly host?: string | undefined;
  readonly port?: number | undefined;
  /** `--socket`: the main listener on this Unix socket (relative: to the working directory) instead of host:port. */
  readonly socket?: string | undefined;
}

/** Flags of the command line that change the configuration. */
export interface CommandLineOverrides extends ListenOverrides {
  /** `--allow-unauthenticated`: the same as inbound.allowUnauthenticated: true. */
  readonly allowUnauthenticated?: boolean | undefined;
}

export interface LoadOptions {
  /** `--config`; when undefined, env.GREENLAKE_PROXY_CONFIG; when neither, zero-config from the environment. */
  readonly file?: string | undefined;
  readonly env: Environment;
  /** Command-line flags: they win over GREENLAKE_PROXY_HOST/PORT/SOCKET, which win over the file. */
  readonly overrides?: CommandLineOverrides | undefined;
}

const NO_CONFIGURATION = 'no configuration: set GREENLAKE_CLIENT_ID and GREENLAKE_CLIENT_SECRET, or pass --config FILE';

export async function loadConfig(options: LoadOptions): Promise<ProxyConfig> {
  const { env } = options;
  const fromFlags = listenFromFlags(options.overrides);
  const fromEnvironment = replacedByFlags(listenFromEnvironment(env), fromFlags);
  const listen = { ...fromEnvironment, ...fromFlags };
  const listenSetBy = {
    ...setBy(fromEnvironment, 'GREENLAKE_PROXY_HOST', 'GREENLAKE_PROXY_PORT', 'GREENLAKE_PROXY_SOCKET'),
    ...setBy(fromFlags, '--host', '--port', '--socket'),
  };
  const file = options.file ?? nonEmpty(env['GREENLAKE_PROXY_CONFIG']);
  const flags: Flags = { listen, listenSetBy, allowUnauthenticated: options.overrides?.allowUnauthenticated === true };
  return file === undefined ? configFromEnvironment(env, flags) : await configFromFile(file, env, flags);
}

/** Validates a configuration object already in memory (as parsed from a file, or built in code). */
export function parseConfig(raw: unknown, env: Environment, source: string): ProxyConfig {
  return resolvedOrThrow(source, resolveConfig(raw, { env, source, interpolate: true }));
}

function resolvedOrThrow(label: string, resolution: Resolution): ProxyConfig {
  if (resolution.ok) return resolution.config;
  throw new ConfigError(label, resolution.problems.map(formatProblem));
}

// ---------------------------------------------------------------------------------------------
// Listener overrides

/** What the environment and the command line change in any configuration. */
interface Flags {
  readonly listen: ListenInput;
  readonly listenSetBy: ListenSetBy;
  readonly allowUnauthenticated: boolean;
}

function setBy(listen: ListenInput, hostSource: string, portSource: string, socketSource: string): ListenSetBy {
  return definedOnly({
    host: listen.host === undefined ? undefined : hostSource,
    port: listen.port === undefined ? undefined : portSource,
    socket: listen.socket === undefined ? undefined : socketSource,
  });
}

/** --socket replaces the environment's host and port; --host or --port its socket. */
function replacedByFlags(fromEnvironment: ListenInput, fromFlags: ListenInput): ListenInput {
  if (fromFlags.socket !== undefined) return {};
  if (fromFlags.host !== undefined || fromFlags.port !== undefined) return definedOnly({ host: fromEnvironment.host, port: fromEnvironment.port });
  return fromEnvironment;
}

function listenFromEnvironment(env: Environment): ListenInput {
  const host = nonEmpty(env['GREENLAKE_PROXY_HOST']);
  const portText = nonEmpty(env['GREENLAKE_PROXY_PORT']);
  const port = portText === undefined ? undefined : parsePort(portText);
  const socket = nonEmpty(env['GREENLAKE_PROXY_SOCKET']);
  const problems: string[] = [];
  if (port === null) problems.push('GREENLAKE_PROXY_PORT: must be an integer from 0 to 65535');
  if (socket !== undefined && (host !== undefined || portText !== undefined)) {
    problems.push('GREENLAKE_PROXY_SOCKET: not with GREENLAKE_PROXY_HOST or GREENLAKE_PROXY_PORT (the socket replaces host:port; unset one)');
  }
  if (problems.length > 0) throw new ConfigError('environment', problems);
  return definedOnly({ host, port: port ?? undefined, socket: socket === undefined ? undefined : path.resolve(socket) });
}

function listenFromFlags(overrides: ListenOverrides | undefined): ListenInput {
  const problems: string[] = [];
  if (overrides?.host === '') problems.push('--host: must not be empty');
  if (overrides?.port !== undefined && !isPort(overrides.port)) problems.push('--port: must be an integer from 0 to 65535');
  if (overrides?.socket === '') problems.push('--socket: must not be empty');
  if (overrides?.socket !== undefined && (overrides.host !== undefined || overrides.port !== undefined)) {
    problems.push('--socket: not with --host or --port (the socket replaces host:port)');
  }
  if (problems.length > 0) throw new ConfigError('command line', problems);
  const socket = overrides?.socket === undefined ? undefined : path.resolve(overrides.socket);
  return definedOnly({ host: overrides?.host, port: overrides?.port, socket });
}

function parsePort(text: string): number | null {
  const port = /^\d{1,5}$/.test(text.trim()) ? Number(text) : NaN;
  return isPort(port) ? port : null;
}

function isPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

// ---------------------------------------------------------------------------------------------
// Configuration file

async function configFromFile(file: string, env: Environment, flags: Flags): Promise<ProxyConfig> {
  const label = `config file ${file}`;
  const raw = parseDocument(label, file, await readConfigFile(label, file));
  const baseDir = path.dirname(path.resolve(file));
  return resolvedOrThrow(label, resolveConfig(raw, { env, source: file, interpolate: true, baseDir, ...flags }));
}

async function readConfigFile(label: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(label, [`cannot read (${errorCode(error)})`]);
  }
}

function parseDocument(label: string, file: string, text: string): unknown {
  const body = text.replace(/^\uFEFF/, '');
  const parsed = file.toLowerCase().endsWith('.json') ? parseJson(body) : parseYaml(body);
  if (parsed.problems.length > 0) throw new ConfigError(label, parsed.problems);
  return parsed.value;
}

interface Parsed {
  readonly value: unknown;
  readonly problems: readonly string[];
}

// Parser messages quote the offending text, which could be a secret: report positions only.

function parseJson(text: string): Parsed {
  try {
    return { value: JSON.parse(text), problems: [] };
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    const lineColumn = /line (\d+) column (\d+)/.exec(message);
    const position = /position (\d+)/.exec(message);
    const at = lineColumn
      ? { line: Number(lineColumn[1]), col: Number(lineColumn[2]) }
      : position
        ? lineAndColumn(text, Number(position[1]))
        : undefined;
    return { value: undefined, problems: [at ? `JSON syntax error at line ${at.line}, column ${at.col}` : 'JSON syntax error (unexpected end of file)'] };
  }
}

function parseYaml(text: string): Parsed {
  const document = YAML.parseDocument(text);
  if (document.errors.length > 0) {
    return { value: undefined, problems: document.errors.map(describeYamlError) };
  }
  const recursive = recursiveAlias(document, text);
  if (recursive !== undefined) return { value: undefined, problems: [recursive] };
  modeAsWritten(document);
  try {
    return { value: document.toJS(), problems: [] };
  } catch {
    return { value: undefined, problems: ['YAML aliases could not be expanded (too many, or unresolved)'] };
  }
}

/**
 * YAML 1.2 reads `mode: 0600` as the integer 600 and `mode: 0o600` as 384: listen.mode gets the
 * digits as they were written, and the schema reads them as octal.
 */
function modeAsWritten(document: YAML.Document): void {
  const mode = document.getIn(['listen', 'mode'], true);
  if (YAML.isScalar(mode) && typeof mode.value === 'number' && mode.source !== undefined) mode.value = mode.source;
}

/** An alias inside the node its anchor names (`a: &x [*x]`) would expand forever: a problem, never a stack overflow. */
function recursiveAlias(document: YAML.Document, text: string): string | undefined {
  let found: string | undefined;
  YAML.visit(document, {
    Alias(_, alias, path) {
      const target = alias.resolve(document);
      if (target === undefined || !path.includes(target as (typeof path)[number])) return undefined;
      const at = lineAndColumn(text, alias.range?.[0] ?? 0);
      found = `YAML alias *${alias.source} at line ${at.line}, column ${at.col} refers to a node that contains it (a recursive alias)`;
      return YAML.visit.BREAK;
    },
  });
  return found;
}

const YAML_ERROR_HINTS: Partial<Record<YAML.ErrorCode, string>> = {
  BAD_INDENT: 'bad indentation',
  TAB_AS_INDENT: 'tab used for indentation',
  DUPLICATE_KEY: 'duplicate key',
  MISSING_CHAR: 'missing character: a colon after a key, a closing quote or bracket, or indentation is off',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines: is a colon missing or indentation off?',
  UNEXPECTED_TOKEN: 'unexpected text',
};

function describeYamlError(error: YAML.YAMLError): string {
  const at = error.linePos?.[0] ?? { line: 1, col: 1 };
  const what = YAML_ERROR_HINTS[error.code] ?? error.code.toLowerCase().replaceAll('_', ' ');
  return `YAML syntax error at line ${at.line}, column ${at.col} (${what})`;
}

function lineAndColumn(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
}

// ---------------------------------------------------------------------------------------------
// Zero-config: one client from GREENLAKE_CLIENT_*, every catalog route.

/** Where each zero-config value came from, so problems name the variable to fix. */
const VARIABLE_FOR_PATH: Readonly<Record<string, string>> = {
  'clients[0].clientId': 'GREENLAKE_CLIENT_ID',
  'clients[0].clientSecret': 'GREENLAKE_CLIENT_SECRET',
  'clients[0].clientSecretFile': 'GREENLAKE_CLIENT_SECRET_FILE',
  'clients[0].tokenUrl': 'GREENLAKE_TOKEN_URL',
  'clients[0].authMethod': 'GREENLAKE_AUTH_METHOD',
  'store.redis.url': 'GREENLAKE_PROXY_REDIS_URL',
  'store.redis.encryptionKey': 'GREENLAKE_PROXY_REDIS_KEY',
  'store.redis': 'GREENLAKE_PROXY_REDIS_KEY',
};

function configFromEnvironment(env: Environment, flags: Flags): ProxyConfig {
  const client = {
    name: 'default',
    clientId: nonEmpty(env['GREENLAKE_CLIENT_ID']),
    clientSecret: nonEmpty(env['GREENLAKE_CLIENT_SECRET']),
    clientSecretFile: nonEmpty(env['GREENLAKE_CLIENT_SECRET_FILE']),
    tokenUrl: nonEmpty(env['GREENLAKE_TOKEN_URL']),
    authMethod: nonEmpty(env['GREENLAKE_AUTH_METHOD']),
  };
  if (client.clientId === undefined && client.clientSecret === undefined && client.clientSecretFile === undefined) {
    throw new ConfigError('environment', [NO_CONFIGURATION]);
  }
  const raw = { clients: [definedOnly(client)] };
  const resolution = resolveConfig(raw, { env, source: 'environment', interpolate: false, baseDir: process.cwd(), ...flags });
  if (resolution.ok) return resolution.config;
  const problems = [...secretVariableProblems(client), ...resolution.problems.filter((p) => p.path !== 'clients[0]').map(inVariableTerms)];
  throw new ConfigError('environment', problems.map(formatProblem));
}

function secretVariableProblems(client: { clientSecret?: string | undefined; clientSecretFile?: string | undefined }): Problem[] {
  if (client.clientSecret === undefined && client.clientSecretFile === undefined) {
    return [{ path: 'GREENLAKE_CLIENT_SECRET', message: 'missing' }];
  }
  if (client.clientSecret !== undefined && client.clientSecretFile !== undefined) {
    return [{ path: 'GREENLAKE_CLIENT_SECRET', message: 'set only one of GREENLAKE_CLIENT_SECRET and GREENLAKE_CLIENT_SECRET_FILE' }];
  }
  return [];
}

function inVariableTerms(problem: Problem): Problem {
  return { path: VARIABLE_FOR_PATH[problem.path] ?? problem.path, message: problem.message };
}

/** An empty variable counts as unset (`FOO=` in a compose file usually means "not configured"). */
function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
