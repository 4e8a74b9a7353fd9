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
  'read-only': {
    type: 'boolean',
    help: 'every route read-only: only GET, HEAD and OPTIONS reach GreenLake, anything else gets 403',
  },
  'require-token': {
    type: 'boolean',
    help: 'callers must send Authorization: Bearer $GREENLAKE_PROXY_TOKEN (always so when the configuration has inbound.apiKeys or inbound.jwt)',
  },
  'url-env': { type: 'string', multiple: true, arg: 'NAME=PREFIX', help: 'also set NAME to the URL of the route PREFIX, e.g. GREENLAKE_API_BASE_URL=/glp/global (repeatable)' },
  'token-env': { type: 'string', multiple: true, arg: 'NAME', help: 'also set NAME to the token, e.g. GREENLAKE_CLIENT_SECRET for a tool that fetches its own (repeatable)' },
  help: { type: 'boolean', short: 'h', help: 'this text' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  /** May be given more than once: a list. */
  readonly multiple?: boolean;
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
  /** What follows the options in the usage line, when the command takes more. */
  readonly operands?: string;
  /** An option's help as this command has it, when it differs from OPTIONS'. */
  readonly optionHelp?: Partial<Record<OptionName, string>>;
  /** The command's own exit statuses, when they are not the usual 0/1/2. */
  readonly exitStatus?: string;
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
  exec: {
    summary: 'Run a command with a private proxy: its URLs and a token in the environment, never the secret',
    details: [
      'Starts the proxy for the configuration (or the zero-config environment) on 127.0.0.1, on a free port',
      '(--port chooses), then runs COMMAND with stdin, stdout and stderr as they are. Its environment gains',
      '  GREENLAKE_PROXY_URL          http://127.0.0.1:PORT',
      '  GREENLAKE_PROXY_URL_<PREFIX> per route: /com/us-west gives GREENLAKE_PROXY_URL_COM_US_WEST (upper case,',
      '                               every run of other characters than letters and digits one _)',
      '  GREENLAKE_PROXY_URL_PORT_<N> per route with port: N (it listens on a free port instead)',
      '  GREENLAKE_PROXY_SOCKET       with --socket PATH: the socket file, the only place the proxy listens (mode',
      '                               0600; the URLs are then http://localhost/...: curl --unix-socket)',
      '  GREENLAKE_PROXY_TOKEN        a token valid at this proxy only, for as long as it runs; tools that fetch',
      '                               their own token can send it as client_secret to the local token endpoint',
      'and loses GREENLAKE_CLIENT_SECRET(_FILE), GREENLAKE_PROXY_REDIS_KEY/_URL, every variable the',
      'configuration took a secret from, and any variable holding a secret\'s value. Without inbound.apiKeys',
      'or inbound.jwt, and without --require-token, no token is asked of callers. With HTTP(S)_PROXY or ALL_PROXY',
      'set, NO_PROXY and no_proxy gain 127.0.0.1 and localhost.',
      'Logs go to stderr, warnings and errors only unless LOG_LEVEL says otherwise; stdout is the command\'s.',
      'SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are passed to the command (from a',
      'terminal, Ctrl-C reaches it directly, once); when it exits, the proxy finishes in-flight requests and stops.',
    ].join('\n'),
    options: ['config', 'port', 'socket', 'read-only', 'require-token', 'url-env', 'token-env', 'log-format'],
    load: async () => (await import('./exec.ts')).runExec,
    portHint: 'choose another with --port PORT, or leave it out for a free one',
    operands: '-- COMMAND [ARGS]',
    optionHelp: {
      port: 'the proxy\'s port on 127.0.0.1 (default: a free one; GREENLAKE_PROXY_HOST/PORT/SOCKET are for serve)',
      socket: 'listen on this Unix socket (mode 0600: only your user can connect) and on no TCP port at all',
    },
    exitStatus: 'Exit status: the command\'s, 128 + N when signal N killed it; 127 command not found, 126 not runnable;\n2 bad usage or configuration, or the proxy could not start (the command did not run).\n',
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
