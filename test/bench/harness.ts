/**
 * The benchmark's building blocks: starting the upstream, the proxies under test and
 * the load generator (each a child process), and the measurements themselves. run.ts
 * strings them into the full benchmark; smoke.test.ts runs them with tiny loads.
 * Everything listens on and talks to 127.0.0.1 only.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { Agent, getGlobalDispatcher } from 'undici';
import { DEMO_CLIENT, type Emulator } from '../../src/emulator/index.ts';
import { requestToken } from '../../src/tokens/index.ts';
import type { LoadReply, LoadRequest, LoadResult } from './load-types.ts';
import {
  atExit,
  childPids,
  machineBusySeconds,
  MIB,
  RssSampler,
  stopChild,
  totalCpu,
  totalMemory,
  totalSystemCpu,
  track,
  type Measured,
} from './proc.ts';

export type { LoadRequest, LoadResult } from './load-types.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..');
const CHILDREN = join(import.meta.dirname, 'children');
/** Every proxy under test serves the upstream under this prefix. */
export const PREFIX = '/bench';
/** The path of the small JSON request, below the prefix (or at the upstream's root, direct). */
export const SMALL_PATH = '/api/v1/volumes';

/**
 * The fixed Authorization header of direct, nginx and the bare plugin: a real token from the
 * emulator's token endpoint for the client greenlake-proxy uses, so every target sends the
 * upstream the same bytes (a GreenLake JWT is about 1 KiB; a short stand-in would make
 * greenlake-proxy's upstream requests, and only its, 1 KiB longer).
 */
export async function fixedAuthorization(tokenUrl: string): Promise<string> {
  const { clientId, clientSecret } = DEMO_CLIENT;
  const dispatcher = getGlobalDispatcher();
  // The proxy's own token call; the lifetime fallback is unused (the bench's run is shorter than any token's).
  const issued = await requestToken({ tokenUrl, clientId, clientSecret, authMethod: 'client_secret_post', timeoutMs: 10_000, dispatcher }, 15 * 60_000);
  return `Bearer ${issued.accessToken}`;
}

/** A child's environment: no test-runner hooks, coverage or proxy overrides leak into it. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('NODE_') || key.startsWith('GREENLAKE_') || key.startsWith('TAP') || key === 'LOG_LEVEL') delete env[key];
  }
  return { ...env, ...extra };
}

const tempDirs = new Map<string, () => void>();

/** A temporary directory, removed by removeTempDir or, at the latest, on exit or a signal. */
export function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'greenlake-bench-'));
  tempDirs.set(dir, atExit(() => rmSync(dir, { recursive: true, force: true })));
  return dir;
}

export function removeTempDir(dir: string): void {
  tempDirs.get(dir)?.();
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true });
}

/** A free TCP port on 127.0.0.1 (bound and released: whoever binds it next may still race). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = net.createServer();
    server.once('error', (err) => reject(new Error(`cannot bind any port on 127.0.0.1: ${err.message}`)));
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

function onePid(child: ChildProcess, label: string): Measured {
  return { label, pids: () => (child.pid !== undefined && child.exitCode === null ? [child.pid] : []) };
}

/**
 * How long a child may take to start. About 1 s on a quiet machine; the smoke test runs inside
 * `npm test`, where a load of 12 on 2 cores once took a Redis-sharing replica past 15 s. Only a
 * hung start should fail here: start-up time is measured by the `startup` scenario.
 */
const START_LIMIT_MS = 60_000;

/** Forks one of our own node children and waits for its first IPC message. */
async function forkChild<T>(script: string, args: string[], label: string, env: Record<string, string> = {}, timeoutMs = START_LIMIT_MS): Promise<{ child: ChildProcess; first: T }> {
  const child = track(
    fork(join(CHILDREN, script), args, {
      execPath: process.execPath,
      execArgv: [],
      env: childEnv(env),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const first = await new Promise<T>((resolveFirst, reject) => {
    const timer = setTimeout(() => fail(new Error(`${label}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: T & { error?: string }): void => {
      if (message.error !== undefined) return fail(new Error(message.error));
      cleanup();
      resolveFirst(message);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(new Error(`${label} exited before it was ready (code ${code}, signal ${signal})`));
    const cleanup = (): void => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const fail = (err: Error): void => {
      cleanup();
      child.kill('SIGKILL');
      reject(err);
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
  return { child, first };
}

// ---------------------------------------------------------------------------------------------
// Upstream

export interface Upstream {
  readonly url: string;
  readonly measured: Measured;
  close(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const { child, first } = await forkChild<{ port: number }>('upstream.ts', ['0'], 'upstream');
  return {
    url: `http://127.0.0.1:${first.port}`,
    measured: onePid(child, 'upstream'),
    close: () => stopChild(child, 2000),
  };
}

// ---------------------------------------------------------------------------------------------
// Load generator

export class LoadGenerator {
  readonly #child: ChildProcess;
  readonly measured: Measured;
  #nextId = 1;

  private constructor(child: ChildProcess) {
    this.#child = child;
    this.measured = onePid(child, 'load generator');
  }

  static async start(): Promise<LoadGenerator> {
    const { child } = await forkChild<{ ready: true }>('loadgen.ts', [], 'load generator');
    return new LoadGenerator(child);
  }

  /** One autocannon run; rejects if it takes far longer than asked or the process dies. */
  run(request: LoadRequest): Promise<LoadResult> {
    const id = this.#nextId++;
    const child = this.#child;
    const limitMs = request.durationSec * 1000 + 30_000;
    return new Promise((resolveRun, reject) => {
      const timer = setTimeout(() => done(new Error(`load generator: no result within ${limitMs} ms`)), limitMs);
      const onMessage = (reply: LoadReply): void => {
        if (!('id' in reply) || reply.id !== id) return;
        if ('error' in reply) done(new Error(`load generator: ${reply.error}`));
        else done(undefined, reply.result);
      };
      const onExit = (): void => done(new Error('load generator exited'));
      const done = (err?: Error, result?: LoadResult): void => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (err) reject(err);
        else resolveRun(result as LoadResult);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ id, request });
    });
  }

  close(): Promise<void> {
    return stopChild(this.#child, 2000);
  }
}

// ---------------------------------------------------------------------------------------------
// Proxies under test

export interface Target {
  readonly name: string;
  /** Origin the load goes to. */
  readonly url: string;
  /** Path prefix in front of the upstream path ('' when direct). */
  readonly prefix: string;
  /** The proxy's own process(es); undefined when direct. */
  readonly measured: Measured | undefined;
  /** Spawn → first 200 from the readiness endpoint, ms (greenlake-proxy only). */
  readonly readyMs?: number;
  /** The Redis it shares state in: its CPU and commands are measured apart from the proxy's. */
  readonly redis?: RedisServer;
  /** Headers the load generator sends (direct: the fixed Authorization). */
  readonly loadHeaders?: Record<string, string>;
  /** greenlake-proxy's stdout and stderr files. */
  readonly logFile?: string;
  readonly errFile?: string;
  stop(): Promise<void>;
}

export function directTarget(upstream: Upstream, authorization: string): Target {
  return { name: 'direct', url: upstream.url, prefix: '', measured: undefined, loadHeaders: { authorization }, stop: async () => {} };
}

export interface GreenlakeOptions {
  readonly upstreamUrl: string;
  readonly tokenUrl: string;
  readonly tmpDir: string;
  /** LOG_LEVEL of the proxy; default warn. */
  readonly logLevel?: string;
  /** Write a V8 CPU profile into this directory when the proxy stops. */
  readonly cpuProfDir?: string;
  readonly name?: string;
  /** A directory holding the greenlake-proxy to run (its src/cli/main.js); default this repository. */
  readonly proxyRoot?: string;
  /** Extra node options for the proxy, e.g. V8 flags to try. */
  readonly nodeArgs?: readonly string[];
  /** store.redis in this Redis (a fresh encryption key per proxy unless given). */
  readonly redis?: RedisServer;
  readonly redisKeyPrefix?: string;
  /** inbound.rateLimit. */
  readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number };
  /** Tells the CPU profile's file name apart (default: the log level). */
  readonly profileTag?: string;
  /** Extra environment of the proxy (e.g. MALLOC_ARENA_MAX). */
  readonly env?: Record<string, string>;
}

/** One key for every replica of this bench run: store.redis.encryptionKey must be shared by them. */
const BENCH_ENCRYPTION_KEY = randomBytes(32).toString('base64');

let proxyRuns = 0;

/**
 * How the tree's own bin runs: src/cli/main.js (main.ts in a tree from before the compile
 * cache, for --proxy-root) with the node flags of its `#!/usr/bin/env -S node ...` line.
 */
/** A clone runs its sources; an installed package (no src/) its built dist/cli/main.js; an old commit may have main.ts. */
function entryPoint(root: string): { file: string; flags: string[] } {
  const candidates = ['src/cli/main.js', 'dist/cli/main.js', 'src/cli/main.ts'].map((f) => join(root, f));
  const file = candidates.find((f) => existsSync(f)) ?? candidates[0]!;
  const shebang = readFileSync(file, 'utf8').split('\n', 1)[0] ?? '';
  const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(shebang)?.[1]?.split(' ') ?? [];
  return { file, flags };
}

/** `node src/cli/main.js serve --config <generated>` as a child; ready once /-/readyz answers 200. */
export async function startGreenlakeProxy(options: GreenlakeOptions): Promise<Target> {
  const run = ++proxyRuns;
  const port = await freePort();
  const configFile = join(options.tmpDir, `greenlake-${run}.yaml`);
  // JSON is YAML: no quoting surprises.
  writeFileSync(
    configFile,
    `${JSON.stringify(
      {
        listen: { host: '127.0.0.1', port },
        clients: [{ name: 'bench', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret, tokenUrl: options.tokenUrl }],
        routes: [{ prefix: PREFIX, upstream: options.upstreamUrl }],
        ...(options.rateLimit !== undefined && { inbound: { rateLimit: options.rateLimit } }),
        ...(options.redis !== undefined && {
          store: { redis: { url: options.redis.url, keyPrefix: options.redisKeyPrefix ?? 'bench:', encryptionKey: BENCH_ENCRYPTION_KEY } },
        }),
      },
      null,
      2,
    )}\n`,
  );
  const logFile = join(options.tmpDir, `greenlake-${run}.log`);
  const errFile = join(options.tmpDir, `greenlake-${run}.err`);
  const out = openSync(logFile, 'w');
  const err = openSync(errFile, 'w');
  const nodeArgs =
    options.cpuProfDir !== undefined
      ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`, `--cpu-prof-name=greenlake-proxy-${options.profileTag ?? options.logLevel ?? 'warn'}-${process.pid}-${run}.cpuprofile`]
      : [];
  const root = options.proxyRoot ?? REPO_ROOT;
  const entry = entryPoint(root);
  const started = performance.now();
  const child = track(
    spawn(process.execPath, [...entry.flags, ...(options.nodeArgs ?? []), ...nodeArgs, entry.file, 'serve', '--config', configFile], {
      cwd: root,
      env: childEnv({ LOG_LEVEL: options.logLevel ?? 'warn', ...options.env }),
      stdio: ['ignore', out, err],
    }),
  );
  closeSync(out);
  closeSync(err);
  const url = `http://127.0.0.1:${port}`;
  const readyMs = await waitReady(url, child, started, START_LIMIT_MS, () => readText(errFile) || readText(logFile));
  return {
    name: options.name ?? `greenlake-proxy (LOG_LEVEL=${options.logLevel ?? 'warn'})`,
    url,
    prefix: PREFIX,
    measured: onePid(child, 'greenlake-proxy'),
    readyMs,
    logFile,
    errFile,
    ...(options.redis !== undefined && { redis: options.redis }),
    stop: () => stopChild(child, options.cpuProfDir !== undefined ? 30_000 : 10_000),
  };
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().slice(-4000);
  } catch {
    return '';
  }
}

/** Polls GET /-/readyz every 5 ms; resolves with ms from `started` to the first 200. */
export async function waitReady(
  url: string,
  child: ChildProcess,
  started: number,
  timeoutMs: number,
  diagnostics: () => string,
): Promise<number> {
  const deadline = started + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${url}: the process exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${diagnostics()}`);
    }
    if ((await probe(`${url}/-/readyz`)) === 200) return performance.now() - started;
    if (performance.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${url}: not ready within ${timeoutMs} ms:\n${diagnostics()}`);
    }
    await sleep(5);
  }
}

function probe(url: string): Promise<number> {
  return new Promise((resolveStatus) => {
    const req = http.get(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolveStatus(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveStatus(0));
  });
}

export async function startBareProxy(upstreamUrl: string, authorization: string): Promise<Target> {
  const { child, first } = await forkChild<{ port: number }>('bare-proxy.ts', [upstreamUrl, PREFIX], 'bare @fastify/http-proxy', {
    // In the environment, not argv: a token on a command line is visible to every user of the machine.
    BENCH_AUTHORIZATION: authorization,
  });
  return {
    name: 'bare @fastify/http-proxy',
    url: `http://127.0.0.1:${first.port}`,
    prefix: PREFIX,
    measured: onePid(child, 'bare @fastify/http-proxy'),
    stop: () => stopChild(child, 5000),
  };
}

// ---------------------------------------------------------------------------------------------
// nginx

export function findNginx(): string | undefined {
  return findProgram('nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx', '/usr/local/nginx/sbin/nginx']);
}

/** The first of `candidates` that exists (sbin is often not on PATH), else `name` as PATH finds it. */
function findProgram(name: string, candidates: readonly string[]): string | undefined {
  for (const candidate of candidates) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    const found = execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim();
    return found === '' ? undefined : found;
  } catch {
    return undefined;
  }
}

/**
 * `apt-get install -y nginx`, with a policy-rc.d in place for the duration so that the
 * package does not start a system nginx on port 80.
 */
export function installNginx(log: (line: string) => void): string | undefined {
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  try {
    if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
    log('installing nginx: apt-get install -y nginx');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = (): void => {
      execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'nginx'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    };
    try {
      install();
    } catch {
      execFileSync('apt-get', ['update'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      install();
    }
  } catch (err) {
    log(`could not install nginx: ${(err as Error).message.split('\n')[0]}`);
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
  return findNginx();
}

/** `nginx -v` prints to stderr. */
function nginxVersionText(binary: string): string {
  const text = execFileSync('sh', ['-c', `"${binary}" -v 2>&1`], { encoding: 'utf8' }).trim();
  return text.replace(/^nginx version:\s*/, '');
}

export async function startNginx(binary: string, upstreamUrl: string, tmpDir: string, authorization: string): Promise<Target & { version: string }> {
  const dir = join(tmpDir, 'nginx');
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const port = await freePort();
  const upstreamHostPort = upstreamUrl.replace(/^http:\/\//, '');
  const user = process.getuid?.() === 0 ? `user ${userInfo().username};\n` : '';
  const conf = `# generated by test/bench: one worker, keep-alive to the upstream, fixed Authorization
${user}worker_processes 1;
daemon off;
master_process on;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy_temp;
  fastcgi_temp_path ${dir}/fastcgi_temp;
  uwsgi_temp_path ${dir}/uwsgi_temp;
  scgi_temp_path ${dir}/scgi_temp;
  keepalive_requests 1000000;
  upstream bench_upstream {
    server ${upstreamHostPort};
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${port};
    # Stream large bodies both ways instead of spooling them to disk or rejecting them.
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_max_temp_file_size 0;
    location = /-/readyz { return 200 'ready'; }
    location ${PREFIX}/ {
      proxy_pass http://bench_upstream/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Authorization "${authorization}";
    }
  }
}
`;
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, conf);
  const errorLog = join(dir, 'logs', 'error.log');
  const started = performance.now();
  const child = spawn(binary, ['-p', `${dir}/`, '-c', confFile, '-e', errorLog], {
    cwd: dir,
    env: childEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const masterPid = child.pid ?? -1;
  track(child, () => childPids(masterPid));
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, child, started, 10_000, () => `${stderr}\n${readText(errorLog)}`);
  const measured: Measured = {
    label: 'nginx (master + 1 worker)',
    pids: () => (child.exitCode === null ? [masterPid, ...childPids(masterPid)] : []),
  };
  return {
    name: 'nginx (1 worker)',
    url,
    prefix: PREFIX,
    measured,
    version: nginxVersionText(binary),
    stop: async () => {
      const workers = childPids(masterPid);
      // SIGQUIT: graceful shutdown; stopChild escalates to SIGKILL and kills the workers too.
      child.kill('SIGQUIT');
      await stopChild(child, 5000, workers);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Redis (the shared store)

export function findRedisServer(): string | undefined {
  return findProgram('redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']);
}

export interface RedisServer {
  readonly url: string;
  /** "7.0.15". */
  readonly version: string;
  readonly measured: Measured;
  /** INFO stats total_commands_processed (not counting this INFO, counted once it has run). */
  commandsProcessed(): Promise<number>;
  /** FLUSHALL: nothing shared is left (tokens, locks, counters). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/**
 * `redis-server --port P --bind 127.0.0.1 --save '' --appendonly no` in `tmpDir`: nothing is
 * written to disk. Ready once it answers PING.
 */
export async function startRedis(binary: string, tmpDir: string): Promise<RedisServer> {
  const dir = join(tmpDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--protected-mode', 'yes'];
  const child = track(spawn(binary, args, { cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: () => 20 });
  client.on('error', () => {});
  const deadline = performance.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      client.disconnect();
      throw new Error(`redis-server exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready:\n${output}`);
    }
    try {
      if (client.status === 'wait' || client.status === 'end') await client.connect();
      if ((await client.ping()) === 'PONG') break;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      client.disconnect();
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port}: no PONG within 10 s:\n${output}`);
    }
    await sleep(20);
  }
  const info = await client.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    url: `redis://127.0.0.1:${port}`,
    version,
    measured: onePid(child, 'redis-server'),
    commandsProcessed: async () => {
      const stats = await client.info('stats');
      return Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? Number.NaN);
    },
    flush: async () => {
      await client.flushall();
    },
    close: async () => {
      client.disconnect();
      await stopChild(child, 5000);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements

export interface LoadMeasurement {
  readonly load: LoadResult;
  /** CPU seconds of the proxy during the measured run (not the warm-up). */
  readonly proxyCpuSec: number | undefined;
  /** Of which in the kernel (stime): syscalls and, on loopback, much of the TCP work. */
  readonly proxySystemCpuSec: number | undefined;
  /** Proxy CPU per 2xx response, microseconds. */
  readonly proxyCpuUsPerRequest: number | undefined;
  /** Highest RSS of the proxy sampled every 50 ms during warm-up and run, bytes. */
  readonly proxyMaxRss: number | undefined;
  /** CPU seconds of the upstream during the run, for context. */
  readonly upstreamCpuSec: number;
  /** With a Redis store: redis-server's CPU seconds during the run (not in proxyCpuSec). */
  readonly redisCpuSec?: number;
  /** With a Redis store: commands Redis processed during the run (every replica's). */
  readonly redisCommands?: number;
  /**
   * CPU seconds the machine spent on anything but the proxy, the upstream, the load
   * generator and this process during the run: another job competing for the cores.
   */
  readonly foreignCpuSec: number;
  /** Runs made: more than 1 when a run was repeated because the machine was busy. */
  readonly attempts: number;
}

/** Share of one core above which other processes' CPU use during a run makes it suspect. */
export const FOREIGN_CPU_LIMIT = 0.1;

/**
 * Waits until the machine is quiet (busy below 10 % of one core over half a second) for
 * at most `maxMs`; true when it is. Our own children are idle between runs.
 */
export async function waitForQuiet(maxMs: number, log?: (line: string) => void): Promise<boolean> {
  const deadline = performance.now() + maxMs;
  let told = false;
  for (;;) {
    const before = machineBusySeconds();
    await sleep(500);
    const share = (machineBusySeconds() - before) / 0.5;
    if (!(share > FOREIGN_CPU_LIMIT)) return true;
    if (performance.now() > deadline) return false;
    if (!told) log?.(`the machine is busy (${Math.round(share * 100)}% of a core outside the bench): waiting up to ${Math.round(maxMs / 1000)} s`);
    told = true;
  }
}

/**
 * A warm-up run, then the measured run with the same settings, with the proxy's CPU and
 * RSS. When other processes used more than 10 % of a core during the measured run, it
 * waits for quiet and repeats the run, at most `retries` times.
 */
export async function measureLoad(
  loadgen: LoadGenerator,
  target: Target,
  upstream: Upstream,
  settings: { connections: number; durationSec: number; warmupSec: number; overallRate?: number; paced?: boolean; retries?: number },
  log?: (line: string) => void,
): Promise<LoadMeasurement> {
  const request: LoadRequest = {
    ...(settings.paced === true && { mode: 'paced' as const }),
    url: `${target.url}${target.prefix}${SMALL_PATH}`,
    connections: settings.connections,
    durationSec: settings.durationSec,
    ...(settings.overallRate !== undefined && { overallRate: settings.overallRate }),
    ...(target.loadHeaders !== undefined && { headers: target.loadHeaders }),
  };
  const retries = settings.retries ?? 0;
  let attempt = 0;
  for (;;) {
    if (retries > 0) await waitForQuiet(60_000, log);
    const sampler = target.measured ? new RssSampler(target.measured) : undefined;
    if (settings.warmupSec > 0) {
      const warm = await loadgen.run({ ...request, durationSec: settings.warmupSec });
      checkLoad(target, warm, 'warm-up');
    }
    const redis = target.redis;
    const commands0 = redis ? await redis.commandsProcessed() : 0;
    const redis0 = redis ? totalCpu(redis.measured) : 0;
    const cpu0 = target.measured ? totalCpu(target.measured) : 0;
    const sys0 = target.measured ? totalSystemCpu(target.measured) : 0;
    const up0 = totalCpu(upstream.measured);
    const lg0 = totalCpu(loadgen.measured);
    const self0 = process.cpuUsage();
    const machine0 = machineBusySeconds();
    const load = await loadgen.run(request);
    const machineCpu = machineBusySeconds() - machine0;
    const selfUsage = process.cpuUsage(self0);
    const proxyCpuSec = target.measured ? totalCpu(target.measured) - cpu0 : undefined;
    const proxySystemCpuSec = target.measured ? totalSystemCpu(target.measured) - sys0 : undefined;
    const upstreamCpuSec = totalCpu(upstream.measured) - up0;
    const redisCpuSec = redis ? totalCpu(redis.measured) - redis0 : undefined;
    const redisCommands = redis ? (await redis.commandsProcessed()) - commands0 - 1 /* the first INFO */ : undefined;
    const ours =
      (proxyCpuSec ?? 0) + upstreamCpuSec + (redisCpuSec ?? 0) + (totalCpu(loadgen.measured) - lg0) + (selfUsage.user + selfUsage.system) / 1e6;
    const rss = sampler?.stop();
    checkLoad(target, load, 'run');
    const foreignCpuSec = Math.max(0, machineCpu - ours);
    if (foreignCpuSec / load.durationSec > FOREIGN_CPU_LIMIT && attempt < retries) {
      attempt++;
      log?.(`${target.name}: other processes used ${Math.round((foreignCpuSec / load.durationSec) * 100)}% of a core during the run: repeating it (${attempt}/${retries})`);
      continue;
    }
    return {
      load,
      proxyCpuSec,
      proxySystemCpuSec,
      proxyCpuUsPerRequest: proxyCpuSec !== undefined && load.requests2xx > 0 ? (proxyCpuSec / load.requests2xx) * 1e6 : undefined,
      proxyMaxRss: rss?.maxRss,
      upstreamCpuSec,
      ...(redisCpuSec !== undefined && { redisCpuSec }),
      ...(redisCommands !== undefined && { redisCommands }),
      foreignCpuSec,
      attempts: attempt + 1,
    };
  }
}

function checkLoad(target: Target, load: LoadResult, what: string): void {
  if (load.requests2xx === 0) {
    throw new Error(`${target.name}: ${what} got no 2xx answer (${load.non2xx} non-2xx, ${load.errors} errors)`);
  }
}

export interface TokenBurst {
  /** Proxies the requests were spread over, in turn. */
  readonly replicas: number;
  readonly concurrent: number;
  readonly tokenRequests: number;
  readonly ok: number;
  readonly failed: number;
  readonly ms: number;
}

/**
 * Fires `concurrent` requests at once, each on its own connection, at a freshly started
 * proxy (or spread in turn over several replicas), and counts the token requests the
 * emulator received meanwhile.
 */
export async function coldTokenBurst(to: Target | readonly Target[], emulator: Emulator, concurrent: number): Promise<TokenBurst> {
  const targets: readonly Target[] = Array.isArray(to) ? to : [to as Target];
  if (targets.length === 0) throw new Error('coldTokenBurst: no target');
  emulator.resetJournal();
  const agent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 1000 });
  const started = performance.now();
  try {
    const statuses = await Promise.all(
      Array.from({ length: concurrent }, async (_, i) => {
        const target = targets[i % targets.length] as Target;
        try {
          const res = await agent.request({ origin: target.url, path: `${target.prefix}${SMALL_PATH}`, method: 'GET' });
          await res.body.dump();
          return res.statusCode;
        } catch {
          return 0;
        }
      }),
    );
    const ms = performance.now() - started;
    const ok = statuses.filter((s) => s === 200).length;
    return { replicas: targets.length, concurrent, tokenRequests: emulator.tokenRequests.length, ok, failed: concurrent - ok, ms };
  } finally {
    await agent.close();
  }
}

export interface StreamMeasurement {
  readonly direction: 'download' | 'upload';
  readonly bytes: number;
  readonly seconds: number;
  readonly mibPerSec: number;
  readonly baselineRss: number;
  readonly maxRss: number;
  /** maxRss − baselineRss, bytes. */
  readonly growth: number;
}

/** Streams `bytes` through the proxy one way, sampling its RSS every 50 ms. */
export async function streamThrough(target: Target, direction: 'download' | 'upload', bytes: number): Promise<StreamMeasurement> {
  const measured = target.measured;
  if (!measured) throw new Error('streamThrough needs a proxy');
  const agent = new Agent({ keepAliveTimeout: 1000, bodyTimeout: 120_000, headersTimeout: 120_000 });
  try {
    // One small request first: the token is fetched and the connection pools exist.
    const warm = await agent.request({ origin: target.url, path: `${target.prefix}${SMALL_PATH}`, method: 'GET' });
    await warm.body.dump();
    await sleep(300);
    const baselineRss = totalMemory(measured).rss;
    const sampler = new RssSampler(measured, 50);
    const started = performance.now();
    let moved = 0;
    let rss: { maxRss: number; samples: number };
    try {
      if (direction === 'download') {
        const res = await agent.request({ origin: target.url, path: `${target.prefix}/download?bytes=${bytes}`, method: 'GET' });
        if (res.statusCode !== 200) throw new Error(`download through ${target.name}: status ${res.statusCode}`);
        for await (const chunk of res.body) moved += (chunk as Buffer).length;
      } else {
        const res = await agent.request({
          origin: target.url,
          path: `${target.prefix}/upload`,
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes) },
          body: uploadBody(bytes),
        });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`upload through ${target.name}: status ${res.statusCode}: ${text.slice(0, 200)}`);
        moved = (JSON.parse(text) as { bytes: number }).bytes;
      }
    } finally {
      rss = sampler.stop();
    }
    const seconds = (performance.now() - started) / 1000;
    if (moved !== bytes) throw new Error(`${direction} through ${target.name}: ${moved} bytes arrived, ${bytes} sent`);
    return {
      direction,
      bytes,
      seconds,
      mibPerSec: bytes / MIB / seconds,
      baselineRss,
      maxRss: rss.maxRss,
      growth: Math.max(0, rss.maxRss - baselineRss),
    };
  } finally {
    await agent.close();
  }
}

function uploadBody(bytes: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x62);
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

export interface StartupSample {
  readonly readyMs: number;
  /** RSS one second after ready, no traffic yet, bytes. */
  readonly idleRss: number;
}

/** Starts a fresh greenlake-proxy, measures spawn → ready and the idle RSS a second later, stops it. */
export async function measureStartup(options: GreenlakeOptions, settleMs = 1000): Promise<StartupSample> {
  const target = await startGreenlakeProxy(options);
  try {
    await sleep(settleMs);
    return { readyMs: target.readyMs ?? Number.NaN, idleRss: target.measured ? totalMemory(target.measured).rss : 0 };
  } finally {
    await target.stop();
  }
}
