import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { ProxyConfig } from '../config/index.ts';
import { unixSocketPathOf, unixSocketUrl } from '../server/unix-socket.ts';
import type { CliOptions, Env } from './command.ts';
import { loadFromCli } from './load.ts';

const DEFAULT_TIMEOUT_MS = 30_000;
const POLL_EVERY_MS = 200;
const READYZ = '/-/readyz';

/** Blocks until the proxy's /-/readyz answers 200: exit 0; 1 when it did not within --timeout. */
export async function runWait(options: CliOptions, env: Env): Promise<number> {
  const base = options.url ?? (await urlFromConfiguration(options, env));
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = performance.now() + timeoutMs;
  const socketPath = unixSocketPathOf(base);
  // Only a status code is read and nothing is sent: a self-signed listener certificate is fine here.
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false, ...(socketPath !== undefined && { socketPath }) } });
  // On a socket, the Host header names localhost, which the proxy's Host allow-list accepts.
  const readyz = `${socketPath === undefined ? base : 'http://localhost'}${READYZ}`;
  let last = 'no answer';
  try {
    for (;;) {
      const remaining = deadline - performance.now();
      last = await probe(readyz, dispatcher, Math.max(1, Math.min(remaining, 2000)));
      if (last === 'ready') {
        process.stdout.write(`greenlake-proxy at ${base} is ready\n`);
        return 0;
      }
      if (performance.now() + POLL_EVERY_MS >= deadline) break;
      await sleep(POLL_EVERY_MS);
    }
  } finally {
    await dispatcher.close();
  }
  process.stderr.write(`greenlake-proxy: ${base} not ready within ${timeoutMs} ms (last: ${last})\n`);
  return 1;
}

async function probe(url: string, dispatcher: Agent, timeoutMs: number): Promise<string> {
  try {
    const res = await request(url, { dispatcher, signal: AbortSignal.timeout(timeoutMs) });
    await res.body.dump();
    return res.statusCode === 200 ? 'ready' : `answered ${res.statusCode}`;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : (err as Error).name;
  }
}

/**
 * With a configuration file: its admin listener, else its main one; without:
 * GREENLAKE_PROXY_SOCKET, GREENLAKE_PROXY_HOST/PORT or 127.0.0.1:8080.
 */
async function urlFromConfiguration(options: CliOptions, env: Env): Promise<string> {
  if (options.config === undefined && (env['GREENLAKE_PROXY_CONFIG'] ?? '') === '') {
    const socket = env['GREENLAKE_PROXY_SOCKET'];
    if (socket) return unixSocketUrl(path.resolve(socket));
    return origin('http', env['GREENLAKE_PROXY_HOST'] || '127.0.0.1', Number(env['GREENLAKE_PROXY_PORT'] || 8080));
  }
  // wait listens on nothing: the listen-beyond-loopback rule is serve's business.
  const config: ProxyConfig = await loadFromCli({ ...options, allowUnauthenticated: true }, env);
  if (config.admin !== undefined) return origin('http', config.admin.host, config.admin.port);
  if (config.listen.socket !== undefined) return unixSocketUrl(config.listen.socket.path);
  return origin(config.listen.tls === undefined ? 'http' : 'https', config.listen.host, config.listen.port);
}

/** A wildcard listen address is reached on loopback. */
function origin(scheme: string, host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}
