import { randomBytes } from 'node:crypto';
import t from 'tap';
import { hashKey } from '../src/inbound/index.ts';
import { call, client, configFor, emulator, proxy, type Answer, type Tap } from './helpers/index.ts';
import { redisFor, redisSkip, type RedisServer } from './helpers/redis.ts';

const KEY = randomBytes(32).toString('base64');
const VOLUMES = '/dscc/us1/api/v1/volumes';
const CI_KEY = 'glproxy_shared-ci-0123456789abcdefghijklmno';
const apiKeys = [{ name: 'ci-pipeline', keyHash: hashKey(CI_KEY), clients: ['team'] }];

function limitedConfig(emu: Parameters<typeof configFor>[0], redis: RedisServer | undefined, prefix: string) {
  return configFor(emu, {
    inbound: { apiKeys, rateLimit: { max: 4, timeWindowMs: 60_000 } },
    // Metrics on the admin listener: looking at the gauge must not count against the limit.
    admin: { host: '127.0.0.1', port: 0 },
    ...(redis === undefined ? {} : { store: { redis: { url: redis.url, keyPrefix: prefix, encryptionKey: KEY } } }),
  });
}

/** `count` requests with the CI key, sent round robin to the replicas, one after another. */
async function roundRobin(t: Tap, urls: readonly string[], count: number): Promise<Answer[]> {
  const http = client(t);
  const answers: Answer[] = [];
  for (let i = 0; i < count; i++) answers.push(await call(http, urls[i % urls.length] + VOLUMES, { headers: { 'x-api-key': CI_KEY } }));
  return answers;
}

t.test('inbound rate limits shared through Redis', { skip: redisSkip }, async (t) => {
  const { redis, inspect } = await redisFor(t);

  t.test('without a store each replica counts alone: 9 requests over 3 replicas with a limit of 4 all pass', async (t) => {
    const emu = await emulator(t);
    const replicas = await Promise.all([1, 2, 3].map(() => proxy(t, limitedConfig(emu, undefined, ''))));
    const answers = await roundRobin(t, replicas.map((r) => r.url), 9);
    t.same(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200, 200, 200, 200]);
  });

  t.test('with Redis one key has one limit across the replicas; its name and the key are not in Redis', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-limit-${randomBytes(4).toString('hex')}:`;
    const replicas = await Promise.all([1, 2, 3].map(() => proxy(t, limitedConfig(emu, redis, prefix))));
    const answers = await roundRobin(t, replicas.map((r) => r.url), 9);
    t.same(answers.map((a) => a.status), [200, 200, 200, 200, 429, 429, 429, 429, 429], 'the 5th request is refused, whichever replica it reaches');
    for (const refused of answers.slice(4)) {
      t.equal(refused.json().errorCode, 'GREENLAKE_PROXY_RATE_LIMITED');
      t.match(refused.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After in whole seconds');
    }
    t.equal(emu.apiRequests.length, 4, 'only the 4 within the limit reached GreenLake');

    const keys = await inspect.keys(`${prefix}limit:*`);
    t.equal(keys.length, 1, 'one shared counter');
    const ttl = await inspect.pttl(keys[0]!);
    t.ok(ttl > 0 && ttl <= 60_000, 'it expires with the window');
    t.equal(await inspect.get(keys[0]!), '9', 'it counted all 9 requests');
    for (const secret of ['ci-pipeline', CI_KEY, '127.0.0.1']) t.notOk(keys[0]!.includes(secret), 'the counter is not named after the caller');
  });

  t.test('Redis paused (connected, silent): a limited request is still answered, counted locally; the gauge says degraded', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-limit-slow-${randomBytes(4).toString('hex')}:`;
    const replica = await proxy(t, limitedConfig(emu, redis, prefix));
    t.equal((await roundRobin(t, [replica.url], 1))[0]!.status, 200, 'counted in Redis');
    redis.pause();
    t.teardown(() => redis.resume());
    const whilePaused = await roundRobin(t, [replica.url], 4);
    t.same(whilePaused.map((a) => a.status), [200, 200, 200, 200], 'answered: the local count starts afresh, nothing waits on Redis');
    const metrics = (await call(client(t), `${replica.gateway.adminUrl}/-/metrics`)).text;
    t.match(metrics, /greenlake_proxy_store_degraded 1/, 'degraded');
    redis.resume();
  });

  t.test('Redis stopped: every replica counts on its own again, no request fails with anything but its own limit; Redis back: shared again', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-limit-down-${randomBytes(4).toString('hex')}:`;
    const replicas = await Promise.all([1, 2].map(() => proxy(t, limitedConfig(emu, redis, prefix))));
    const urls = replicas.map((r) => r.url);
    await redis.stop();
    const whileDown = await roundRobin(t, urls, 8);
    t.same(whileDown.map((a) => a.status), [200, 200, 200, 200, 200, 200, 200, 200], 'each replica allows its own 4');
    t.same(
      (await roundRobin(t, urls, 2)).map((a) => a.status),
      [429, 429],
      'and then refuses by its own count',
    );
    await redis.start();
    const http = client(t);
    let shared = false;
    for (let i = 0; i < 100 && !shared; i++) {
      const metrics = (await call(http, `${replicas[0]!.gateway.adminUrl}/-/metrics`)).text;
      shared = /greenlake_proxy_store_degraded 0/.test(metrics);
      if (!shared) await new Promise((r) => setTimeout(r, 50));
    }
    t.ok(shared, 'rejoined');
    t.equal((await inspect.keys(`${prefix}limit:*`)).length, 0, 'nothing counted in Redis while it was down');
    const after = await roundRobin(t, urls, 5);
    t.same(after.map((a) => a.status), [200, 200, 200, 200, 429], 'a fresh shared window of 4 across both replicas');
  });
});
