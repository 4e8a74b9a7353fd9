/**
 * The container's HEALTHCHECK: asks the running proxy itself, on the listeners its own
 * configuration gives it. Docker runs a health command with the container's environment but
 * not with its arguments, so the serving command's arguments (`serve --port 9000 --config ...`)
 * are read from /proc: PID 1, or the process running src/cli/main.js (`docker run --init`).
 * Exit 0 when every listener answers /-/healthz with 200, 1 otherwise (Docker's meanings).
 */
import { readdir, readFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type ProxyConfig } from '../config/index.ts';
import { unixSocketPathOf, unixSocketUrl } from '../server/unix-socket.ts';

export type Env = Record<string, string | undefined>;

const ENTRY = /(^|\/)src\/cli\/main\.js$/;
const COMMANDS = ['serve', 'check', 'token', 'emulator', 'demo', 'hash-key', 'wait'];
const SERVING_COMMANDS = ['serve', 'demo'];
const PROBE_TIMEOUT_MS = 2500;

export interface ProbeTarget {
  readonly listener: 'main' | 'admin';
  readonly url: string;
}

/** `healthcheck.js [--pid PID | -- ARGS...]`: the serving process's arguments, or a process to read them from. */
export async function runHealthcheck(argv: readonly string[], env: Env): Promise<number> {
  try {
    const servingArgs = await argumentsToCheck(argv);
    const targets = await probeTargets(servingArgs, env);
    const results = await Promise.all(targets.map(async (target) => ({ target, outcome: await probe(target.url) })));
    const healthy = results.every((r) => r.outcome === 200);
    const summary = results.map((r) => `${r.target.listener} ${r.target.url} ${r.outcome}`).join(', ');
    process.stdout.write(`${healthy ? 'healthy' : 'unhealthy'}: ${summary}\n`);
    return healthy ? 0 : 1;
  } catch (err) {
    const message = err instanceof ConfigError || err instanceof HealthcheckError ? err.message : String(err);
    process.stdout.write(`unhealthy: ${message}\n`);
    return 1;
  }
}

class HealthcheckError extends Error {
  override readonly name = 'HealthcheckError';
}

async function argumentsToCheck(argv: readonly string[]): Promise<string[]> {
  const separator = argv.indexOf('--');
  if (separator !== -1) return argv.slice(separator + 1);
  const pidFlag = argv.indexOf('--pid');
  const pid = pidFlag === -1 ? undefined : argv[pidFlag + 1];
  if (pid !== undefined) {
    const args = await proxyArguments(pid);
    if (args === undefined) throw new HealthcheckError(`process ${pid} is not greenlake-proxy`);
    return args;
  }
  return (await proxyArguments('1')) ?? (await findProxyArguments()) ?? [];
}

/** The arguments after src/cli/main.js of a process, if it runs the proxy's command line. */
async function proxyArguments(pid: string): Promise<string[] | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => undefined);
  if (raw === undefined) return undefined;
  const argv = raw.split('\0').slice(0, -1);
  const entry = argv.findIndex((arg) => ENTRY.test(arg));
  return entry === -1 ? undefined : argv.slice(entry + 1);
}

async function findProxyArguments(): Promise<string[] | undefined> {
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid);
  for (const pid of pids.sort((a, b) => Number(a) - Number(b))) {
    const args = await proxyArguments(pid);
    if (args !== undefined) return args;
  }
  return undefined;
}

/** Where the proxy started with these arguments and this environment listens, as it would load its configuration. */
export async function probeTargets(args: readonly string[], env: Env): Promise<ProbeTarget[]> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: false,
    options: { config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string', short: 'p' }, socket: { type: 'string' } },
  });
  // Options this parser does not know may take values: the command is the first known word.
  const command = positionals.find((p) => COMMANDS.includes(p)) ?? 'serve';
  const host = typeof values.host === 'string' ? values.host : undefined;
  const port = typeof values.port === 'string' ? Number(values.port) : undefined;
  const socket = typeof values.socket === 'string' ? values.socket : undefined;
  if (!SERVING_COMMANDS.includes(command)) throw new HealthcheckError(`"${command}" is not a command that serves`);
  if (command === 'demo') return [{ listener: 'main', url: socket === undefined ? healthzUrl('http:', host ?? '127.0.0.1', port ?? 8080) : unixSocketUrl(socket) }];
  const file = typeof values.config === 'string' ? values.config : undefined;
  const config = await loadConfig({ file, env, overrides: { host, port, socket, allowUnauthenticated: true } });
  return targetsOf(config);
}

function targetsOf(config: ProxyConfig): ProbeTarget[] {
  const scheme = config.listen.tls === undefined ? 'http:' : 'https:';
  const { socket } = config.listen;
  const main = socket === undefined ? healthzUrl(scheme, config.listen.host, config.listen.port) : unixSocketUrl(socket.path);
  const targets: ProbeTarget[] = [{ listener: 'main', url: main }];
  if (config.admin !== undefined) targets.push({ listener: 'admin', url: healthzUrl('http:', config.admin.host, config.admin.port) });
  return targets;
}

function healthzUrl(scheme: 'http:' | 'https:', host: string, port: number): string {
  if (port === 0) throw new HealthcheckError('the proxy listens on port 0 (any free port): give it a fixed port to check');
  // A wildcard address accepts connections on loopback; any other is asked where it listens.
  const address = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `${scheme}//${address.includes(':') ? `[${address}]` : address}:${port}/-/healthz`;
}

/** The status /-/healthz answered, or why there was none. */
function probe(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    // Its own listener, on a local address: the certificate names the gateway, not this address.
    const options = { timeout: PROBE_TIMEOUT_MS, rejectUnauthorized: false };
    const socketPath = unixSocketPathOf(url);
    const respond = (response: http.IncomingMessage): void => {
      response.resume();
      resolve(response.statusCode ?? 'no status');
    };
    // On a socket the whole URL is the path (unix:/run/p.sock); Host names localhost, which the proxy accepts.
    const request =
      socketPath !== undefined
        ? http.get({ ...options, socketPath, path: '/-/healthz', headers: { host: 'localhost' } }, respond)
        : (url.startsWith('https:') ? https : http).get(url, options, respond);
    request.on('timeout', () => request.destroy(new HealthcheckError(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    request.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
