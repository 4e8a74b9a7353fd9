import type { Command } from './command.ts';

/** Every option of the command line; each command lists the ones it takes. */
export const OPTIONS = {
  config: { type: 'string', short: 'c', arg: 'FILE', help: 'YAML or JSON configuration (or GREENLAKE_PROXY_CONFIG)' },
  host: { type: 'string', arg: 'HOST', help: 'listen address (or GREENLAKE_PROXY_HOST; default 127.0.0.1)' },
  port: { type: 'string', short: 'p', arg: 'PORT', help: 'listen port (or GREENLAKE_PROXY_PORT; default 8080); 0 picks a free one' },
  socket: {
    type: 'string',
    arg: 'PATH',
    help: 'serve on this Unix socket instead of host:port (or GREENLAKE_PROXY_SOCKET, listen.socket); mode listen.mode, default 0600',
  },
  'allow-unauthenticated': {
    type: 'boolean',
    help: 'listen beyond loopback without inbound.apiKeys or inbound.jwt (refused otherwise): anyone who can connect uses the API clients\' rights',
  },
  'log-format': { type: 'string', arg: 'pretty|json', help: 'log lines: readable text or JSON (default: text on a terminal, JSON otherwise)' },
  online: { type: 'boolean', help: 'also get one token per client and per tenant from its token endpoint' },
  client: { type: 'string', arg: 'NAME', help: 'the client (default: the first; zero-config\'s is named "default")' },
  tenant: { type: 'string', arg: 'NAME', help: 'a tenant of the client (clients[].tenants): its token, by token exchange' },
  region: { type: 'string', arg: 'REGION', help: 'the region key of one of the client\'s routes (default: its first route\'s)' },
  generate: { type: 'boolean', help: 'create a random key and print it with its hash' },
  url: { type: 'string', arg: 'URL', help: 'the proxy to wait for, http(s)://HOST:PORT or unix:/PATH (default: the configuration\'s admin listener, else its main one)' },
  timeout: { type: 'string', arg: 'DURATION', help: 'how long to wait: 30s (default), 500ms, 2m' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly arg?: string;
  readonly help: string;
}

export interface CommandSpec {
  /** One line for the command list. */
  readonly summary: string;
  /** What the command's own help adds: behaviour, signals, exit status. */
  readonly details: string;
  readonly options: readonly OptionName[];
  /** Loaded when the command runs: `serve` never carries the emulator's code and memory. */
  readonly load: () => Promise<Command>;
  /** For a listener's port already in use: how to choose another. */
  readonly portHint?: string;
}

const SERVE_PORT_HINT = 'choose another with --port PORT or GREENLAKE_PROXY_PORT';

export const COMMANDS = {
  serve: {
    summary: 'Run the proxy (the default command)',
    details: [
      'Forwards each route to its upstream with a fresh token of its client.',
      'SIGTERM and SIGINT drain in-flight requests and exit 0. SIGHUP reloads the --config file when the',
      'proxy has no controlling terminal (a service, a container); started from a terminal, closing that',
      'terminal (SIGHUP) stops it.',
    ].join('\n'),
    options: ['config', 'host', 'port', 'socket', 'allow-unauthenticated', 'log-format'],
    load: async () => (await import('./serve.ts')).runServe,
    portHint: SERVE_PORT_HINT,
  },
  check: {
    summary: 'Validate the configuration; --online also gets one token per client and tenant',
    details: [
      'Prints per client its token URL, its auth method and where its secret comes from (a file: whether it',
      'is readable). With --online, asks each token endpoint for one token; exit 1 when one fails.',
    ].join('\n'),
    options: ['config', 'host', 'port', 'socket', 'allow-unauthenticated', 'online'],
    load: async () => (await import('./check.ts')).runCheck,
  },
  token: {
    summary: 'Print a fresh access token for a client, and nothing else, on stdout',
    details: [
      'For scripts: TOKEN=$(greenlake-proxy token --client default). Errors go to stderr, exit 1.',
      'From a clone: TOKEN=$(npm start -- token).',
    ].join('\n'),
    options: ['config', 'client', 'tenant', 'region'],
    load: async () => (await import('./token.ts')).runToken,
  },
  wait: {
    summary: 'Wait until a proxy answers ready (for init containers and scripts)',
    details: [
      'Asks /-/readyz of --url, else of the configuration\'s admin listener, else of its main listener',
      '(GREENLAKE_PROXY_HOST/PORT or GREENLAKE_PROXY_SOCKET, default 127.0.0.1:8080), until it answers 200.',
      'Exit status: 0 ready, 1 not ready within --timeout, 2 bad usage or configuration.',
    ].join('\n'),
    options: ['url', 'config', 'timeout'],
    load: async () => (await import('./wait.ts')).runWait,
  },
  emulator: {
    summary: 'Run the local GreenLake emulator alone',
    details: 'Listens on 127.0.0.1:9080 unless --host/--port say otherwise; prints its token URL and demo credential.',
    options: ['host', 'port'],
    load: async () => (await import('./emulator.ts')).runEmulator,
    portHint: 'choose another with --port PORT',
  },
  demo: {
    summary: 'Run the emulator and the proxy wired together, and print curl lines to try',
    details: 'No credentials needed: every catalog route leads to a local emulator. Ctrl-C stops both.',
    options: ['host', 'port', 'socket', 'allow-unauthenticated', 'log-format'],
    load: async () => (await import('./demo.ts')).runDemo,
    portHint: SERVE_PORT_HINT,
  },
  'hash-key': {
    summary: 'Read an API key on stdin and print its inbound.apiKeys keyHash line',
    details: 'printf %s "$KEY" | greenlake-proxy hash-key    (never as an argument: shell history and ps would keep it)\n--generate creates a random key and prints both.',
    options: ['generate'],
    load: async () => (await import('./hash-key.ts')).runHashKey,
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}
