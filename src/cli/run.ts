import { parseArgs } from 'node:util';
import { ConfigError } from '../config/index.ts';
import { VERSION } from '../server/version.ts';
import { USAGE } from './usage.ts';

export type Env = Record<string, string | undefined>;

export interface CliOptions {
  readonly config: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  readonly online: boolean;
  readonly client: string | undefined;
  readonly region: string | undefined;
  /** serve, check, demo: listen beyond loopback without inbound authentication, deliberately. */
  readonly allowUnauthenticated: boolean;
  /** hash-key: create a random key instead of reading one. */
  readonly generate: boolean;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Command = (options: CliOptions, env: Env) => Promise<number>;

/** Each command is loaded when it runs: `serve` never carries the emulator's code and memory. */
const COMMANDS = {
  serve: async () => (await import('./serve.ts')).runServe,
  check: async () => (await import('./check.ts')).runCheck,
  token: async () => (await import('./token.ts')).runToken,
  emulator: async () => (await import('./emulator.ts')).runEmulator,
  demo: async () => (await import('./demo.ts')).runDemo,
  'hash-key': async () => (await import('./hash-key.ts')).runHashKey,
} satisfies Record<string, () => Promise<Command>>;

/** Parses the command line and runs one command; returns the exit status. */
export async function runCli(argv: readonly string[], env: Env): Promise<number> {
  try {
    const { command, options, help, version } = parse(argv);
    if (help) return print(USAGE);
    if (version) return print(`${VERSION}\n`);
    return await (await COMMANDS[command]())(options, env);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`greenlake-proxy: ${(err as Error).message}\n`);
      if (err instanceof UsageError) process.stderr.write(`Run greenlake-proxy --help for usage.\n`);
      return 2;
    }
    throw err;
  }
}

function parse(argv: readonly string[]): {
  command: keyof typeof COMMANDS;
  options: CliOptions;
  help: boolean;
  version: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        host: { type: 'string' },
        port: { type: 'string', short: 'p' },
        online: { type: 'boolean', default: false },
        client: { type: 'string' },
        region: { type: 'string' },
        'allow-unauthenticated': { type: 'boolean', default: false },
        generate: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [name = 'serve', ...extra] = positionals;
  if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command "${name}"`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  return {
    command: name as keyof typeof COMMANDS,
    help: values.help,
    version: values.version,
    options: {
      config: values.config,
      host: values.host,
      port: values.port === undefined ? undefined : parsePort(values.port),
      online: values.online,
      client: values.client,
      region: values.region,
      allowUnauthenticated: values['allow-unauthenticated'],
      generate: values.generate,
    },
  };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--port: must be an integer from 0 to 65535`);
  return port;
}

function print(text: string): number {
  process.stdout.write(text);
  return 0;
}
