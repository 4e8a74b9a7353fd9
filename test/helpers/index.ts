import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { Agent, type Dispatcher } from 'undici';
import type { ProxyConfig } from '../../src/config/index.ts';
import { DEMO_CLIENT, startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import type { Gateway } from '../../src/server/index.ts';
import './fixtures.ts';

export type Tap = Test;

export async function emulator(t: Tap, options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  t.teardown(() => emu.close());
  return emu;
}

export interface RunningProxy {
  readonly url: string;
  readonly gateway: Gateway;
  readonly config: ProxyConfig;
  /** Every log line the proxy wrote, raw. */
  readonly logs: string[];
}

/** A raw config object whose one client uses the emulator's demo credentials. */
export function configFor(emu: Emulator, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    clients: [{ name: 'team', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_SECRET, tokenUrl: emu.tokenUrl }],
    routes: [
      { prefix: '/com/us-west', upstream: emu.url },
      { prefix: '/dscc/us1', upstream: emu.url },
      { prefix: '/glp/global', upstream: emu.url },
    ],
    ...overrides,
  };
}

export const DEMO_SECRET = DEMO_CLIENT.clientSecret;

/** Starts the real gateway in-process on 127.0.0.1:0 with its logs captured. */
export async function proxy(t: Tap, raw: Record<string, unknown>, env: Record<string, string> = {}): Promise<RunningProxy> {
  // Loaded here, not at the top: tests that only need the emulator (the contract suite) skip
  // loading the whole proxy, about 0.4 s of CPU per test file.
  const { parseConfig } = await import('../../src/config/index.ts');
  const { createLogger, startGateway } = await import('../../src/server/index.ts');
  const config = parseConfig(raw, env, 'test');
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const gateway = await startGateway(config, createLogger('debug', sink));
  t.teardown(() => gateway.close(0));
  return { url: gateway.url, gateway, config, logs };
}

/** A client agent per test so connection pools never leak between tests. */
export function client(t: Tap): Agent {
  const agent = new Agent({ keepAliveTimeout: 1000 });
  t.teardown(() => agent.close());
  return agent;
}

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function call(
  dispatcher: Dispatcher,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  // Split by hand: `new URL()` would normalise the very paths and queries the tests send on purpose.
  const { origin, path } = splitUrl(url);
  const res = await dispatcher.request({
    origin,
    path,
    method: (options.method ?? 'GET') as Dispatcher.HttpMethod,
    headers: options.headers ?? {},
    body: options.body ?? null,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

function splitUrl(url: string): { origin: string; path: string } {
  const match = /^(https?:\/\/[^/?#]+)(.*)$/.exec(url);
  if (!match) throw new Error(`not an absolute URL: ${url}`);
  return { origin: match[1]!, path: match[2] || '/' };
}

/**
 * Polls until `check` holds, then returns; throws `never happened: <what>` after `timeoutMs`.
 * A bound on a hang, never a timing assertion: the state is what is tested.
 */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`);
    await delay(20);
  }
}

/** Every access token the emulator saw in an Authorization header. */
export function tokensSeenBy(emu: Emulator): string[] {
  const tokens = new Set<string>();
  for (const r of emu.apiRequests) {
    const auth = r.headers.authorization;
    if (typeof auth === 'string' && auth.startsWith('Bearer ')) tokens.add(auth.slice(7));
  }
  return [...tokens];
}

/** Asserts that no secret and no token appears in any captured log line. */
export function assertNoCredentialsIn(t: Tap, lines: readonly string[], secrets: readonly string[]): void {
  const text = lines.join('\n');
  // A failure names which of the given secrets leaked (by position and length), never the value.
  const leaked = secrets.flatMap((s, i) => (s.length > 0 && text.includes(s) ? [`secret #${i} (${s.length} characters)`] : []));
  t.same(leaked, [], 'no secret or token appears in the logs');
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that was free a moment ago, for routes and listeners that need a fixed one. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
