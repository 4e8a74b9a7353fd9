/**
 * Smoke test of the benchmark harness (test/bench): tiny loads for about a second, and
 * only the shape of the figures is checked, never a timing threshold. nginx is skipped;
 * the Redis part runs when redis-server is installed.
 */
import { join } from 'node:path';
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
import { kindsOf } from './heap-diff.ts';
import { inspectorUrl, readInside, takeHeapSnapshot } from './inspector.ts';
import { killAll, memoryDetail, MIB, rssByMapping } from './proc.ts';
import { computeSlopes, slope, type SoakSample } from './soak-report.ts';

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

t.test('the soak reads a greenlake-proxy from outside: /proc, and the heap after a GC through the inspector', async (t) => {
  const { tmpDir, upstream, emulator } = await rig(t);
  const proxy = await startGreenlakeProxy({ upstreamUrl: upstream.url, tokenUrl: emulator.tokenUrl, tmpDir, nodeArgs: ['--inspect=127.0.0.1:0'] });
  t.teardown(() => proxy.stop());
  const pid = proxy.measured?.pids()[0] as number;
  const ws = await inspectorUrl(proxy.errFile as string);
  t.match(ws, /^ws:\/\/127\.0\.0\.1:\d+\//, 'the inspector listens on loopback');

  const inside = await readInside(ws);
  t.ok(inside.heapUsed > 0 && inside.heapUsed <= inside.heapTotal, 'heap used after GC, within the heap');
  t.ok(inside.arrayBuffers >= 0 && inside.arrayBuffers <= inside.external, 'array buffers are part of external memory');
  t.ok(inside.rss > inside.heapTotal, 'the process reads its own RSS');
  t.ok(inside.nativeContexts >= 1 && inside.activeResources >= 1, 'contexts and active resources counted');

  const proc = memoryDetail(pid);
  t.ok(proc !== undefined && proc.rss > 0 && proc.rssAnon + proc.rssFile <= proc.rss + 4 * MIB, '/proc: RSS split into anonymous and file pages');
  const mappings = rssByMapping(pid);
  t.ok(mappings !== undefined && mappings.anonymous > 0 && mappings.file > 0 && mappings.anonymousMappings > 0, '/proc smaps: resident memory by mapping');

  const file = join(tmpDir, 'proxy.heapsnapshot');
  await takeHeapSnapshot(ws, file);
  const kinds = kindsOf(file);
  t.ok((kinds.get('object:Object')?.count ?? 0) > 0, 'the heap snapshot counts objects by constructor');
  t.ok([...kinds.keys()].some((k) => k.startsWith('closure:')), 'and closures by function name');
});

t.test('the upstream refuses a token issued more than 15 s ago on /api/v1/revoked, as GreenLake a revoked one', async (t) => {
  const upstream = await startUpstream();
  t.teardown(() => upstream.close());
  const jwt = (iat: number): string => `Bearer e30.${Buffer.from(JSON.stringify({ iat })).toString('base64url')}.sig`;
  const now = Math.floor(Date.now() / 1000);
  const status = async (path: string, authorization: string): Promise<number> => {
    const res = await fetch(upstream.url + path, { headers: { authorization } });
    await res.arrayBuffer();
    return res.status;
  };
  t.equal(await status('/api/v1/revoked', jwt(now - 60)), 401, 'an old token is refused there');
  t.equal(await status('/api/v1/revoked', jwt(now)), 200, 'a fresh one passes');
  t.equal(await status('/api/v1/volumes', jwt(now - 60)), 200, 'any other path takes the old one');
});

t.test('soak slopes: least squares over each half of the run, in MiB per 10 minutes', async (t) => {
  t.equal(slope([[0, 1], [1, 3], [2, 5]]), 2, 'a straight line');
  t.ok(Number.isNaN(slope([[0, 1]])), 'one point has no slope');
  const at = (minute: number, rssMiB: number): SoakSample => {
    const bytes = rssMiB * MIB;
    return {
      minute,
      requests: 0, periodRequests: 0, periodNon2xx: 0, periodErrors: 0, periodRps: 0, tokenRequests: 0,
      proxyCpuSec: 0, loadgenCpuSec: 0, machineBusySec: 0, logBytes: 0,
      proc: { rss: bytes, rssAnon: bytes, rssFile: 0, hwm: bytes, vmData: bytes, threads: 1 },
      mappings: undefined,
      periodRssMax: bytes,
      periodRssMean: bytes,
      rssAfterGc: bytes,
      inside: {
        heapUsed: 1, heapTotal: 1, rss: bytes, external: 0, arrayBuffers: 0, mallocedMemory: 0, peakMallocedMemory: 0,
        nativeContexts: 1, detachedContexts: 0, activeResources: 1, gcMs: 0,
      },
    };
  };
  const slopes = computeSlopes([at(0, 100), at(10, 110), at(20, 120), at(30, 120), at(40, 120)]);
  t.equal(slopes.halfAtMinute, 20, 'the halves split at minute 20');
  t.equal(slopes.rss.firstHalf, 10, 'grows 10 MiB per 10 min in the first half');
  t.equal(slopes.rss.secondHalf, 0, 'flat in the second');
});
