import { randomBytes } from 'node:crypto';
import t from 'tap';
import { parseConfig } from '../src/config/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { call, client, configFor, emulator, eventually, proxy, tokensSeenBy, type RunningProxy, type Tap } from './helpers/index.ts';
import { startServe, writeServeConfig } from './helpers/cli.ts';
import { parseExposition } from './helpers/prometheus.ts';
import { redisFor, redisSkip, type RedisServer } from './helpers/redis.ts';

const KEY = randomBytes(32).toString('base64');

// ---------------------------------------------------------------------------------------------
// Configuration: no Redis needed.

t.test('a Redis store without an encryption key, or with a bad one, refuses to start; the key is never quoted', async (t) => {
  const base = { clients: [{ name: 'team', clientId: 'id', clientSecret: 'secret' }] };
  t.throws(() => parseConfig({ ...base, store: { redis: { url: 'redis://127.0.0.1:6379' } } }, {}, 'test'), {
    message: /store\.redis: needs encryptionKey or encryptionKeyFile/,
  });
  const short = randomBytes(16).toString('base64');
  try {
    parseConfig({ ...base, store: { redis: { url: 'redis://127.0.0.1:6379', encryptionKey: short } } }, {}, 'test');
    t.fail('a 16-byte key was accepted');
  } catch (err) {
    const message = (err as Error).message;
    t.match(message, /store\.redis\.encryptionKey: must be 32 bytes in base64, got 16 bytes/);
    t.notOk(message.includes(short), 'the key is not in the message');
  }
  t.throws(() => parseConfig({ ...base, store: { redis: { url: 'http://127.0.0.1:6379', encryptionKey: KEY } } }, {}, 'test'), {
    message: /store\.redis\.url: must be a URL such as redis:/,
  });
  const config = parseConfig({ ...base, store: { redis: { url: 'redis://127.0.0.1:6379', encryptionKey: KEY } } }, {}, 'test');
  t.equal(config.store?.redis.keyPrefix, 'greenlake-proxy:', 'default key prefix');
  t.equal(parseConfig(base, {}, 'test').store, undefined, 'no store: everything stays in memory');
  const fromEnv = parseConfig(base, { GREENLAKE_PROXY_REDIS_URL: 'redis://127.0.0.1:7000', GREENLAKE_PROXY_REDIS_KEY: KEY }, 'test');
  t.equal(fromEnv.store?.redis.url, 'redis://127.0.0.1:7000', 'GREENLAKE_PROXY_REDIS_URL');
  t.equal(fromEnv.store?.redis.encryptionKey, KEY, 'GREENLAKE_PROXY_REDIS_KEY');
  t.throws(() => parseConfig(base, { GREENLAKE_PROXY_REDIS_URL: 'redis://127.0.0.1:7000' }, 'test'), { message: /needs encryptionKey/ });
});

// ---------------------------------------------------------------------------------------------
// A real redis-server on loopback.

/**
 * Tests of sharing give Redis commands ample time: with the 200 ms default, a test process whose
 * event loop stalls (a busy machine) sees commands time out and replicas fetch their own tokens,
 * which is right for the proxy and wrong for a test counting shared fetches. Tests of a slow or
 * lost Redis pass the default back (`commandTimeoutMs: SHORT_COMMAND_MS`).
 */
const SHARING_COMMAND_MS = 5_000;
const SHORT_COMMAND_MS = 200;

function storeConfig(emu: Parameters<typeof configFor>[0], redis: RedisServer, prefix: string, extra: Record<string, unknown> = {}, commandTimeoutMs = SHARING_COMMAND_MS) {
  return configFor(emu, {
    store: { redis: { url: redis.url, keyPrefix: prefix, encryptionKey: KEY, commandTimeoutMs } },
    ...extra,
  });
}

/** How long a wait for Redis-side state may hang before it fails (a bound, not a timing assertion). */
const REDIS_WAIT_MS = 5_000;

interface SharedBudgetView {
  client: string;
  tenant: string | null;
  method: string;
  upstream: string;
  path: string;
  blockedUntil: string | null;
}

async function budgetOn(http: ReturnType<typeof client>, gw: RunningProxy, path: string): Promise<SharedBudgetView | undefined> {
  const status = (await call(http, `${gw.url}/-/status`)).json<{ rateLimits: { apis: SharedBudgetView[] } }>();
  return status.rateLimits.apis.find((a) => a.path === path);
}

async function degradedGauge(t: Tap, gw: RunningProxy): Promise<number | undefined> {
  const text = (await call(client(t), `${gw.url}/-/metrics`)).text;
  return parseExposition(text).get('greenlake_proxy_store_degraded')?.samples[0]?.value;
}

t.test('replicas sharing tokens through Redis', { skip: redisSkip }, async (t) => {
  const { redis, inspect } = await redisFor(t);

  t.test('300 concurrent cold requests over 3 replicas: one token request per client and region; Redis holds nothing usable', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-cold-${randomBytes(4).toString('hex')}:`;
    const gateways = await Promise.all([1, 2, 3].map(() => proxy(t, storeConfig(emu, redis, prefix))));
    emu.setTokenFault({ kind: 'delay', ms: 200, times: 3 });
    const http = client(t);
    const paths = ['/com/us-west/compute-ops-mgmt/v1/servers', '/dscc/us1/api/v1/volumes', '/glp/global/devices/v1/devices'];
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) => call(http, `${gateways[i % 3]!.url}${paths[Math.floor(i / 3) % 3]}`)),
    );
    t.same(new Set(answers.map((a) => a.status)), new Set([200]), 'all 300 answered 200');
    t.equal(emu.tokenRequests.length, 3, 'three token requests: one per region, across all replicas');
    t.equal(emu.apiRequests.length, 300);

    const keys = await inspect.keys(`${prefix}*`);
    t.equal(keys.filter((k) => k.startsWith(`${prefix}token:`)).length, 3, 'three shared tokens');
    const tokens = tokensSeenBy(emu);
    t.equal(tokens.length, 3);
    for (const key of keys) {
      t.notOk(key.includes(DEMO_CLIENT.clientId), 'no client ID in a key name');
      t.notOk(/com\/us-west|dscc|glp/.test(key.slice(prefix.length)), 'no region in a key name');
      const value = (await inspect.get(key)) ?? '';
      // A JWT's shape, not just 'eyJ': three base64 letters occur by chance in ciphertext.
      t.notOk(/eyJ[\w-]+\.eyJ[\w-]+\./.test(value), 'no JWT in a value');
      t.notOk(tokens.some((token) => value.includes(token)), 'no token in a value');
      t.notOk(value.includes(DEMO_CLIENT.clientId), 'no client ID in a value');
      const ttl = await inspect.pttl(key);
      t.ok(ttl > 0, 'every key expires');
    }
  });

  t.test('a 401 drops the shared copy of that token, so no replica keeps forwarding it', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-401-${randomBytes(4).toString('hex')}:`;
    const [a, b] = await Promise.all([1, 2].map(() => proxy(t, storeConfig(emu, redis, prefix))));
    const http = client(t);
    const path = '/glp/global/devices/v1/devices';
    t.equal((await call(http, `${a!.url}${path}`)).status, 200);
    t.equal((await call(http, `${b!.url}${path}`)).status, 200);
    t.equal(emu.tokenRequests.length, 1, "b took a's token");
    emu.revokeAllTokens();
    t.equal((await call(http, `${a!.url}${path}`)).status, 200, 'a: 401, then a new token');
    t.equal(emu.tokenRequests.length, 2, 'one new token, shared in place of the refused one');
    t.equal((await call(http, `${b!.url}${path}`)).status, 200, 'b: 401 with its old token, then the shared new one');
    const c = await proxy(t, storeConfig(emu, redis, prefix));
    t.equal((await call(http, `${c.url}${path}`)).status, 200, 'a cold replica');
    t.equal(emu.tokenRequests.length, 2, "b dropping its refused token did not drop a's new one");
  });

  t.test('the lock holder, a separate process, is killed (SIGKILL) mid-fetch: another replica takes over once the lock expires', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-lock-${randomBytes(4).toString('hex')}:`;
    const path = '/dscc/us1/api/v1/volumes';
    // The holder: `greenlake-proxy serve` as its own OS process, with the same store and route as the other replica.
    const file = await writeServeConfig(t.testdir({}), emu, undefined, [
      'store:',
      '  redis:',
      `    url: ${redis.url}`,
      `    keyPrefix: ${JSON.stringify(prefix)}`,
      `    encryptionKey: ${JSON.stringify(KEY)}`,
      `    commandTimeoutMs: ${SHARING_COMMAND_MS}`,
      '    lockTtlMs: 4000',
      'timeouts:',
      '  tokenRequestMs: 60000',
      '  tokenWaitMs: 60000',
    ]);
    const holder = await startServe(t, file);
    // The holder's token call hangs until the holder is killed, however slow the machine: nothing here races a clock.
    const raw = storeConfig(emu, redis, prefix, { timeouts: { tokenRequestMs: 3000, tokenWaitMs: 8000 } });
    (raw.store as { redis: Record<string, unknown> }).redis.lockTtlMs = 4000;
    const other = await proxy(t, raw);

    emu.setTokenFault({ kind: 'hang', times: 1 });
    const http = client(t);
    const stuck = call(http, `${holder.url}${path}`).then(
      (answer) => answer.status,
      () => 'no answer' as const,
    );
    await eventually('the holder is fetching (the emulator saw its token request)', async () => emu.tokenRequests.length === 1, REDIS_WAIT_MS);
    const locked = async (): Promise<boolean> => (await inspect.keys(`${prefix}lock:*`)).length === 1;
    await eventually('and holds the lock in Redis', locked, REDIS_WAIT_MS);
    const [lockKey] = await inspect.keys(`${prefix}lock:*`);
    const lockId = await inspect.get(lockKey!);
    t.ok((await inspect.pttl(lockKey!)) > 0, 'a lock that expires');

    holder.child.kill('SIGKILL');
    const [code, signal] = await holder.exited;
    t.same([code, signal], [null, 'SIGKILL'], 'the holder process died of SIGKILL');
    t.ok(lockId !== null && (await inspect.get(lockKey!)) === lockId, "its lock is still in Redis: nobody released it");
    t.equal(await stuck, 'no answer', 'its caller got no answer');
    t.equal(emu.tokenRequests.length, 1, 'one token request so far: the one the holder never finished');

    const res = await call(http, `${other.url}${path}`);
    t.equal(res.status, 200, 'the other replica answered 200');
    t.equal(emu.tokenRequests.length, 2, 'with a token it fetched itself once the dead holder\'s lock expired');
    await eventually('no lock left in Redis', async () => (await inspect.keys(`${prefix}lock:*`)).length === 0, REDIS_WAIT_MS);
    // Written before the answer when it took the lock, in the background when its wait for the lock ran out first (a busy machine): wait for it either way.
    await eventually('the new token is shared', async () => (await inspect.keys(`${prefix}token:*`)).length === 1, REDIS_WAIT_MS);
    t.equal((await inspect.keys(`${prefix}token:*`)).length, 1, 'one shared token');
    // Named, never quoted: a failure must not print what leaked.
    const logs = [holder.logs(), ...other.logs].join('\n');
    const secrets: Array<[string, string]> = [['the encryption key', KEY], ['the client secret', DEMO_CLIENT.clientSecret], ...tokensSeenBy(emu).map((token): [string, string] => ['a token', token])];
    t.same(secrets.filter(([, secret]) => logs.includes(secret)).map(([name]) => name), [], 'neither replica logged the key, the client secret or a token');
  });

  t.test('Redis stops answering (paused): a cold token is fetched locally within the command timeout, the gauge says so; Redis answers again: 0', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-slow-${randomBytes(4).toString('hex')}:`;
    const extra = { timeouts: { tokenWaitMs: 3000 } };
    const gw = await proxy(t, storeConfig(emu, redis, prefix, extra, SHORT_COMMAND_MS));
    const http = client(t);
    t.equal(await degradedGauge(t, gw), 0);
    redis.pause();
    t.teardown(() => redis.resume());
    const res = await call(http, `${gw.url}/glp/global/devices/v1/devices`);
    t.equal(res.status, 200, 'answered, with a token fetched without Redis');
    t.equal(emu.tokenRequests.length, 1);
    t.equal(await degradedGauge(t, gw), 1, 'degraded');
    redis.resume();
    await eventually('rejoined once Redis answers', async () => (await degradedGauge(t, gw)) === 0, REDIS_WAIT_MS);
    t.equal(gw.logs.filter((l) => l.includes('(degraded)')).length, 1, 'one degraded line');
    t.equal(gw.logs.filter((l) => l.includes('(rejoined)')).length, 1, 'one rejoined line');
  });

  t.test("a used-up rate-limit budget of an API is seen by every replica: the others refuse without calling upstream", async (t) => {
    const emu = await emulator(t);
    emu.setRateLimit({ limit: 2, windowSeconds: 30 });
    const prefix = `glp-budget-${randomBytes(4).toString('hex')}:`;
    const extra = { rateLimits: { maxWaitMs: 200 } };
    const [a, b] = await Promise.all([1, 2].map(() => proxy(t, storeConfig(emu, redis, prefix, extra))));
    const http = client(t);
    const path = '/glp/global/devices/v1/devices';
    t.equal((await call(http, `${a!.url}${path}`)).status, 200);
    t.equal((await call(http, `${a!.url}${path}`)).status, 200, "the answer says the budget is spent");
    const blocked = async (): Promise<boolean> => (await budgetOn(http, b!, '/devices/v1/devices'))?.blockedUntil != null;
    await eventually("b heard that team's devices budget is closed", blocked, REDIS_WAIT_MS);
    const refused = await call(http, `${b!.url}${path}`);
    t.equal(refused.status, 429, 'b answers 429 itself');
    t.equal(refused.json().errorCode, 'GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED');
    t.equal(emu.apiRequests.length, 2, 'and sent nothing upstream');
    t.match(await budgetOn(http, b!, '/devices/v1/devices'), { client: 'team', tenant: null, method: 'GET', upstream: emu.url }, 'the message carried the whole key');
  });

  t.test('Redis stops under load: no request fails, the degraded gauge is 1; Redis back: 0', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-down-${randomBytes(4).toString('hex')}:`;
    const extra = { routes: [{ prefix: '/glp/global', upstream: emu.url }, { prefix: '/cold', upstream: emu.url }] };
    const gateways = await Promise.all([1, 2, 3].map(() => proxy(t, storeConfig(emu, redis, prefix, extra, SHORT_COMMAND_MS))));
    const http = client(t);
    for (const gw of gateways) t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status, 200);
    t.equal(await degradedGauge(t, gateways[0]!), 0, 'gauge 0 while Redis is up');

    let stop = false;
    let down = false;
    const statuses: number[] = [];
    const load = Promise.all(
      gateways.map(async (gw) => {
        while (!stop) {
          statuses.push((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status);
          // A token no replica has yet: fetched locally while Redis is down.
          if (down) statuses.push((await call(http, `${gw.url}/cold/devices/v1/devices`)).status);
        }
      }),
    );
    // Counted, not timed: the load is running before Redis goes, and goes on for a while without it.
    await eventually('the load is running', () => statuses.length >= 6, REDIS_WAIT_MS);
    await redis.stop();
    down = true;
    await eventually('gauge 1 once Redis is gone', async () => (await degradedGauge(t, gateways[0]!)) === 1, REDIS_WAIT_MS);
    const answeredBeforeDown = statuses.length;
    await eventually('requests answered while Redis is down, cold ones among them', () => statuses.length >= answeredBeforeDown + 12, REDIS_WAIT_MS);
    await redis.start();
    await eventually(
      'gauge 0 on every replica once Redis is back',
      async () => {
        const gauges = await Promise.all(gateways.map((gw) => degradedGauge(t, gw)));
        return gauges.every((g) => g === 0);
      },
      REDIS_WAIT_MS,
    );
    stop = true;
    await load;
    t.ok(statuses.length > 0);
    t.ok(emu.tokenRequests.length >= 2, 'the /cold token was fetched without Redis');
    t.same(
      statuses.filter((s) => s !== 200),
      [],
      `no failed request among ${statuses.length}`,
    );
    const logs = gateways.flatMap((gw) => gw.logs);
    t.equal(logs.filter((l) => l.includes('(degraded)')).length, 3, 'one degraded line per replica');
    t.equal(logs.filter((l) => l.includes('(rejoined)')).length, 3, 'one rejoined line per replica');
    t.notOk(logs.some((l) => l.includes(KEY)), 'the key is never logged');
  });
});
