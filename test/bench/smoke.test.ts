/**
 * Smoke test of the benchmark harness (test/bench): tiny loads for about a second, and
 * only the shape of the figures is checked, never a timing threshold. nginx is skipped;
 * the Redis part runs when redis-server is installed.
 */
import t from 'tap';
import { startEmulator } from '../../src/emulator/index.ts';
import type { Tap } from '../helpers/index.ts';
import {
  coldTokenBurst,
  directTarget,
  fixedAuthorization,
  findRedisServer,
  LoadGenerator,
  makeTempDir,
  measureLoad,
  removeTempDir,
  startGreenlakeProxy,
  startRedis,
  startUpstream,
  streamThrough,
} from './harness.ts';
import { killAll, MIB } from './proc.ts';

t.teardown(killAll);

/** What every scenario needs: a temp dir, the upstream, the emulator's token endpoint, the load generator; all closed at teardown. */
async function rig(t: Tap) {
  const tmpDir = makeTempDir();
  t.teardown(() => removeTempDir(tmpDir));
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const emulator = await startEmulator();
  t.teardown(() => emulator.close());
  const loadgen = await LoadGenerator.start();
  t.teardown(() => loadgen.close());
  return { tmpDir, upstream, emulator, loadgen };
}

t.test('the bench harness measures greenlake-proxy against direct access', async (t) => {
  const { tmpDir, upstream, emulator, loadgen } = await rig(t);
  const proxy = await startGreenlakeProxy({ upstreamUrl: upstream.url, tokenUrl: emulator.tokenUrl, tmpDir });
  t.teardown(() => proxy.stop());
  t.ok(proxy.readyMs !== undefined && proxy.readyMs > 0, 'time to ready is measured');

  const burst = await coldTokenBurst(proxy, emulator, 100);
  t.equal(burst.ok, 100, 'every cold concurrent request is answered 200');
  t.equal(burst.tokenRequests, 1, 'one token request for 100 cold concurrent requests');

  const direct = await measureLoad(loadgen, directTarget(upstream, await fixedAuthorization(emulator.tokenUrl)), upstream, { connections: 2, durationSec: 0.5, warmupSec: 0 });
  t.ok(direct.load.rps > 0, 'direct: requests per second');
  t.equal(direct.proxyCpuSec, undefined, 'direct: no proxy to measure');

  const proxied = await measureLoad(loadgen, proxy, upstream, { connections: 4, durationSec: 1, warmupSec: 0.2 });
  t.ok(proxied.load.rps > 0, 'proxied: requests per second');
  t.equal(proxied.load.non2xx + proxied.load.errors, 0, 'proxied: no errors');
  for (const [name, value] of Object.entries(proxied.load.latencyMs)) {
    t.ok(Number.isFinite(value) && value >= 0, `latency ${name} is a number`);
  }
  t.ok(proxied.load.latencyMs.p50 <= proxied.load.latencyMs.p99, 'p50 <= p99');
  t.ok(proxied.proxyCpuSec !== undefined && proxied.proxyCpuSec >= 0, 'proxy CPU seconds');
  t.ok(proxied.proxyMaxRss !== undefined && proxied.proxyMaxRss > 0, 'proxy RSS');

  const paced = await measureLoad(loadgen, proxy, upstream, { connections: 2, durationSec: 0.5, warmupSec: 0, overallRate: 100 });
  t.ok(paced.load.rps > 0 && paced.load.rps < 300, 'fixed rate is respected roughly');

  const even = await measureLoad(loadgen, proxy, upstream, {
    connections: 2,
    durationSec: 0.5,
    warmupSec: 0,
    overallRate: 100,
    paced: true,
  });
  t.equal(even.load.requests2xx, 50, 'paced: every planned request answered');
  t.ok(Number.isFinite(even.load.latencyMs.p99), 'paced: latency measured');

  const stream = await streamThrough(proxy, 'upload', 4 * MIB);
  t.equal(stream.bytes, 4 * MIB, 'upload streamed through');
  t.ok(stream.maxRss > 0 && stream.growth >= 0, 'stream RSS figures');
});

const redisServer = findRedisServer();

t.test('the bench harness measures greenlake-proxy replicas sharing a Redis store', { skip: redisServer === undefined && 'redis-server is not installed' }, async (t) => {
  const { tmpDir, upstream, emulator, loadgen } = await rig(t);
  const redis = await startRedis(redisServer as string, tmpDir);
  t.teardown(() => redis.close());
  t.match(redis.version, /^\d+\.\d+/, 'redis-server version');

  const options = { upstreamUrl: upstream.url, tokenUrl: emulator.tokenUrl, tmpDir, redis, rateLimit: { max: 1_000_000_000, timeWindowMs: 60_000 } };
  const replicas = await Promise.all([startGreenlakeProxy(options), startGreenlakeProxy(options)]);
  t.teardown(() => Promise.all(replicas.map((r) => r.stop())));

  const burst = await coldTokenBurst(replicas, emulator, 60);
  t.equal(burst.replicas, 2, 'spread over both replicas');
  t.equal(burst.ok, 60, 'every cold concurrent request is answered 200');
  t.equal(burst.tokenRequests, 1, 'one token request for two replicas sharing Redis');

  const proxied = await measureLoad(loadgen, replicas[0], upstream, { connections: 2, durationSec: 0.5, warmupSec: 0 });
  t.ok(proxied.load.rps > 0, 'requests per second');
  t.equal(proxied.load.non2xx + proxied.load.errors, 0, 'a limit never reached refuses nothing');
  t.ok(proxied.redisCpuSec !== undefined && proxied.redisCpuSec >= 0, 'redis-server CPU seconds');
  t.ok(proxied.redisCommands !== undefined && Number.isInteger(proxied.redisCommands) && proxied.redisCommands >= 0, 'commands Redis ran');
});
