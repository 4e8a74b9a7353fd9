import { parseArgs } from 'node:util';
import { ConfigError } from '../config/index.ts';
import { SocketListenError } from '../server/unix-socket.ts';
import { VERSION } from '../server/version.ts';
import { UsageError, type CliOptions, type Env, type LogFormat, type UrlEnv } from './command.ts';
import { COMMANDS, isCommandName, OPTIONS, type CommandName, type CommandSpec, type OptionName } from './commands.ts';
import { lookalikeWarnings } from './environment.ts';
import { commandUsage, usage } from './usage.ts';

type Parsed =
  | { readonly kind: 'run'; readonly command: CommandName; readonly options: CliOptions }
  | { readonly kind: 'print'; readonly text: string };

/** Parses the command line and runs one command; returns the exit status. */
export async function runCli(argv: readonly string[], env: Env): Promise<number> {
  let command: CommandName = 'serve';
  try {
    const parsed = parse(argv, (name) => (command = name));
    if (parsed.kind === 'print') return print(parsed.text);
    command = parsed.command;
    for (const warning of lookalikeWarnings(env)) process.stderr.write(`greenlake-proxy: ${warning}\n`);
    return await (await COMMANDS[command].load())(parsed.options, env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`greenlake-proxy: ${err.message}\n`);
      if (err instanceof UsageError) process.stderr.write(`Run greenlake-proxy help ${command} for usage.\n`);
      return 2;
    }
    if (err instanceof SocketListenError) {
      process.stderr.write(`greenlake-proxy: ${err.message}\n`);
      return 2;
    }
    const inUse = addressInUse(err);
    if (inUse !== undefined) {
      const spec: CommandSpec = COMMANDS[command];
      process.stderr.write(`greenlake-proxy: ${inUse} is already in use (another proxy running?); ${spec.portHint ?? 'choose another port'}\n`);
      return 2;
    }
    throw err;
  }
}

/** `named`: told the command as soon as it is known, for the hint under an error. */
function parse(argv: readonly string[], named: (name: CommandName) => void): Parsed {
  const { values, positionals, afterDashes } = parseStrictly(argv);
  const [first, ...rest] = positionals;
  if (first === 'help') return { kind: 'print', text: helpFor(rest) };
  if (values['version'] === true) return { kind: 'print', text: `${VERSION}\n` };
  const name = first ?? 'serve';
  if (!isCommandName(name)) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')}, help)`);
  named(name);
  if (values.help === true) return { kind: 'print', text: first === undefined ? usage() : commandUsage(name) };
  if (name === 'exec') checkCommand(rest, afterDashes);
  else if (rest.length > 0 || afterDashes !== undefined) throw new UsageError(`${name}: unexpected argument "${rest[0] ?? '--'}"`);
  refuseForeignOptions(name, values);
  return { kind: 'run', command: name, options: toOptions(values, afterDashes ?? []) };
}

/** exec's command comes after `--`, so that its own options are never taken for exec's. */
function checkCommand(before: readonly string[], after: readonly string[] | undefined): void {
  if (before.length > 0) throw new UsageError(`exec: put -- before the command: greenlake-proxy exec [options] -- ${before.join(' ')}`);
  if (after === undefined || after.length === 0) throw new UsageError('exec: no command: greenlake-proxy exec [options] -- COMMAND [ARGS]');
}

type Values = ReturnType<typeof parseStrictly>['values'];

/** The positionals before `--`, and what follows `--` (undefined without one). */
function parseStrictly(argv: readonly string[]) {
  const parsed = parseArgsOrUsageError(argv);
  const dashes = parsed.tokens.find((token) => token.kind === 'option-terminator');
  const afterDashes = dashes === undefined ? undefined : argv.slice(dashes.index + 1);
  const positionals = afterDashes === undefined ? parsed.positionals : parsed.positionals.slice(0, parsed.positionals.length - afterDashes.length);
  return { values: parsed.values, positionals, afterDashes };
}

function parseArgsOrUsageError(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], allowPositionals: true, strict: true, tokens: true, options: { ...OPTIONS, version: { type: 'boolean', short: 'v' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function helpFor(topics: readonly string[]): string {
  const [topic, extra] = topics;
  if (extra !== undefined) throw new UsageError(`help: one command at a time`);
  if (topic === undefined) return usage();
  if (!isCommandName(topic)) throw new UsageError(`help: unknown command "${topic}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  return commandUsage(topic);
}

/** An option the command does not take would be silently ignored: refused instead. */
function refuseForeignOptions(name: CommandName, values: Values): void {
  const takes: readonly string[] = COMMANDS[name].options;
  const given = Object.keys(values).filter((key) => key !== 'help' && key !== 'version' && values[key as OptionName] !== undefined);
  const foreign = given.find((key) => !takes.includes(key));
  if (foreign === undefined) return;
  const its = takes.length === 0 ? 'it takes no options' : `its options: ${takes.map((o) => `--${o}`).join(', ')}`;
  throw new UsageError(`${name} does not take --${foreign} (${its})`);
}

function toOptions(values: Values, command: readonly string[]): CliOptions {
  return {
    config: values.config,
    host: values.host,
    port: values.port === undefined ? undefined : parsePort(values.port),
    socket: values.socket,
    online: values.online ?? false,
    client: values.client,
    tenant: values.tenant,
    region: values.region,
    allowUnauthenticated: values['allow-unauthenticated'] ?? false,
    generate: values.generate ?? false,
    logFormat: values['log-format'] === undefined ? undefined : parseLogFormat(values['log-format']),
    url: values.url === undefined ? undefined : parseUrl(values.url),
    timeoutMs: values.timeout === undefined ? undefined : parseDuration(values.timeout),
    command,
    readOnly: values['read-only'] ?? false,
    requireToken: values['require-token'] ?? false,
    urlEnv: (values['url-env'] ?? []).map(parseUrlEnv),
    tokenEnv: (values['token-env'] ?? []).map((name) => variableName('--token-env', name)),
  };
}

function parseUrlEnv(value: string): UrlEnv {
  const equals = value.indexOf('=');
  if (equals < 0) throw new UsageError(`--url-env: must be NAME=PREFIX, e.g. GREENLAKE_API_BASE_URL=/glp/global`);
  return { name: variableName('--url-env', value.slice(0, equals)), prefix: value.slice(equals + 1) };
}

function variableName(option: string, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`${option}: ${JSON.stringify(name)} is not a variable name (letters, digits and _)`);
  return name;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--port: must be an integer from 0 to 65535`);
  return port;
}

function parseLogFormat(value: string): LogFormat {
  if (value === 'pretty' || value === 'json') return value;
  throw new UsageError(`--log-format: must be pretty or json, not ${JSON.stringify(value)}`);
}

/** An origin, or `unix:/absolute/path` for a proxy on a Unix socket. */
function parseUrl(value: string): string {
  if (value.startsWith('unix:')) {
    if (!value.startsWith('unix:/')) throw new UsageError('--url: a socket is unix:/ABSOLUTE/PATH');
    return value;
  }
  const url = URL.parse(value);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw new UsageError(`--url: must be an http:// or https:// URL, or unix:/PATH`);
  return url.origin;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000 };

/** `30`, `30s`, `500ms`, `2m`: a bare number is seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (match === null) throw new UsageError(`--timeout: must be a duration such as 30s, 500ms or 2m, not ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}

/** `127.0.0.1:8080` when a listener could not bind because the address is taken. */
function addressInUse(err: unknown): string | undefined {
  const e = err as { code?: unknown; address?: unknown; port?: unknown };
  if (e === null || typeof e !== 'object' || e.code !== 'EADDRINUSE') return undefined;
  const host = typeof e.address === 'string' ? (e.address.includes(':') ? `[${e.address}]` : e.address) : 'the address';
  return typeof e.port === 'number' ? `${host}:${e.port}` : host;
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}
