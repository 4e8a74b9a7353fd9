import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { freePort, type Tap } from './index.ts';

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

/** The skip reason for tests that need redis-server; CI installs it, so there they never skip. */
export const redisSkip: string | false =
  !hasRedis && process.env.CI !== 'true' ? 'no redis-server here (apt-get install redis-server): not testing the shared store' : false;

/** A real redis-server on loopback, without persistence. */
export class RedisServer {
  #child: ChildProcess | undefined;
  readonly port: number;

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Resolves once it answers PING. */
  async start(): Promise<void> {
    this.#child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    const probe = new Redis(this.url, { lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: null });
    probe.on('error', () => {});
    try {
      await probe.connect().catch(() => {});
      const answer = await probe.ping();
      if (answer !== 'PONG') throw new Error(`redis-server answered ${answer}`);
    } finally {
      probe.disconnect();
    }
  }

  /** SIGSTOP: connections stay open, nothing answers (a Redis too slow to be of use). */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }

  resume(): void {
    this.#child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
  }

  /** A plain client for looking at what the proxies stored. */
  inspector(): Redis {
    const redis = new Redis(this.url, { maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    return redis;
  }
}

/** A started redis-server on a free port and a client to look into it, both gone at `t`'s teardown. */
export async function redisFor(t: Tap): Promise<{ redis: RedisServer; inspect: Redis }> {
  const redis = new RedisServer(await freePort());
  await redis.start();
  t.teardown(() => redis.stop());
  const inspect = redis.inspector();
  t.teardown(() => inspect.disconnect());
  return { redis, inspect };
}
