import { randomBytes } from 'node:crypto';
import pino from 'pino';
import t from 'tap';
import { RedisTokenStore, Sealer } from '../src/store/index.ts';
import { sharedFetch, StoreUnavailable, type IssuedToken, type TokenStore } from '../src/tokens/index.ts';
import { call, client, configFor, emulator, eventually, proxy, type RunningProxy, type Tap } from './helpers/index.ts';
import { redisFor, redisSkip, type RedisServer } from './helpers/redis.ts';

const KEY = randomBytes(32).toString('base64');
const REDIS_WAIT_MS = 5_000;
/** Ample: these tests count what is shared, not how a slow Redis is survived (store-redis.test.ts). */
const COMMAND_MS = 5_000;
const ENDPOINT = undefined as never;

/** A store connected to `redis` (a command before that would fail at once: no offline queue). */
async function storeOf(t: Tap, redis: RedisServer, prefix: string): Promise<RedisTokenStore> {
  const store = new RedisTokenStore(
    { url: redis.url, keyPrefix: prefix, encryptionKey: KEY, commandTimeoutMs: COMMAND_MS, lockTtlMs: undefined },
    pino({ level: 'silent' }),
  );
  t.teardown(() => store.close());
  t.ok(await store.connected(REDIS_WAIT_MS), 'connected to Redis');
  return store;
}

/** A store that tells what it did: the lock ids it got, and each unlock as a promise to wait on. */
function watched(store: TokenStore, failReads = 0): TokenStore & { locks: string[]; unlocks: Array<Promise<void>> } {
  const locks: string[] = [];
  const unlocks: Array<Promise<void>> = [];
  let failing = failReads;
  return {
    locks,
    unlocks,
    slot: (identity) => store.slot(identity),
    read: async (slot) => {
      if (failing-- > 0) throw new StoreUnavailable('redis: Command timed out');
      return store.read(slot);
    },
    write: (slot, token) => store.write(slot, token),
    forget: (slot, token) => store.forget(slot, token),
    lock: async (slot, ttlMs) => {
      const id = await store.lock(slot, ttlMs);
      if (id !== undefined) locks.push(id);
      return id;
    },
    unlock: (slot, id) => {
      const done = store.unlock(slot, id);
      unlocks.push(done);
      return done;
    },
  };
}

/** A token fetch the test finishes when it likes. */
function pendingFetch(): { fetch: () => Promise<IssuedToken>; calls: () => number; finish: (token: string) => void } {
  const done = Promise.withResolvers<IssuedToken>();
  let calls = 0;
  return {
    fetch: () => {
      calls += 1;
      return done.promise;
    },
    calls: () => calls,
    finish: (token) => done.resolve({ accessToken: token, expiresAt: Date.now() + 900_000, lifetimeSource: 'expires_in' }),
  };
}

t.test('shared token locks in a real Redis', { skip: redisSkip }, async (t) => {
  const { redis, inspect } = await redisFor(t);

  t.test('the Redis lock is released only by its holder: a slow replica whose lock expired and was taken over leaves the new lock', async (t) => {
    const prefix = `glp-unlock-${randomBytes(4).toString('hex')}:`;
    const store = watched(await storeOf(t, redis, prefix));
    const slot = store.slot(['team', 'region']);
    const lockKey = `${prefix}lock:${slot}`;
    const slow = pendingFetch();
    const taker = pendingFetch();
    const options = { store, slot, waitMs: 60_000, lockTtlMs: 300, minTtlMs: 0 };

    const first = sharedFetch(slow.fetch, options).fetchToken(ENDPOINT);
    await eventually('the slow replica holds the lock and fetches', () => slow.calls() === 1, REDIS_WAIT_MS);
    await eventually('its lock expires', async () => (await inspect.exists(lockKey)) === 0, REDIS_WAIT_MS);
    const second = sharedFetch(taker.fetch, options).fetchToken(ENDPOINT);
    await eventually('another replica takes the lock and fetches', () => taker.calls() === 1, REDIS_WAIT_MS);
    t.equal(store.locks.length, 2, 'two locks were taken, one after the other');

    slow.finish('token-of-the-slow-one');
    t.equal((await first).accessToken, 'token-of-the-slow-one');
    await store.unlocks[0];
    t.equal(await inspect.get(lockKey), store.locks[1], "the slow replica's unlock left the new holder's lock in place");

    taker.finish('token-of-the-taker');
    await second;
    await store.unlocks[1];
    t.equal(await inspect.exists(lockKey), 0, 'the holder released its own lock');
  });

  t.test('a replica whose Redis call fails while it waits fetches itself and still shares the token (the takeover test saw 0 shared tokens)', async (t) => {
    const prefix = `glp-writeback-${randomBytes(4).toString('hex')}:`;
    const store = watched(await storeOf(t, redis, prefix), 1);
    const slot = store.slot(['team', 'region']);
    const fetch = pendingFetch();
    const fetching = sharedFetch(fetch.fetch, { store, slot, waitMs: 60_000, lockTtlMs: 5_000, minTtlMs: 0 }).fetchToken(ENDPOINT);
    await eventually('the read failed, so it fetches itself', () => fetch.calls() === 1, REDIS_WAIT_MS);
    fetch.finish('fetched-without-the-store');
    await fetching;
    await eventually('the token is written back for the others', async () => (await inspect.exists(`${prefix}token:${slot}`)) === 1, REDIS_WAIT_MS);
    const other = await sharedFetch(() => Promise.reject(new Error('must not fetch')), { store, slot, waitMs: 60_000, lockTtlMs: 5_000, minTtlMs: 0 }).fetchToken(ENDPOINT);
    t.equal(other.accessToken, 'fetched-without-the-store', 'another replica takes it');
    t.equal(store.locks.length, 0, 'no lock was needed');
  });

  t.test('a replica that found no token, and takes the lock just after another holder wrote one and let go, takes that token: no second fetch', async (t) => {
    const prefix = `glp-reread-${randomBytes(4).toString('hex')}:`;
    const real = await storeOf(t, redis, prefix);
    const slot = real.slot(['team', 'region']);
    const holder = watched(real);
    // The late replica's first read sees the store empty, and its answer arrives only after the holder has written and unlocked.
    const holderDone = Promise.withResolvers<void>();
    let lateReads = 0;
    const late: TokenStore = {
      ...watched(real),
      read: async (s) => {
        const value = await real.read(s);
        if (++lateReads === 1) await holderDone.promise;
        return value;
      },
    };
    const holderFetch = pendingFetch();
    let lateFetches = 0;
    const lateFetch = async (): Promise<IssuedToken> => {
      lateFetches += 1;
      return { accessToken: 'token-of-the-late-one', expiresAt: Date.now() + 900_000, lifetimeSource: 'expires_in' };
    };
    const options = { slot, waitMs: 60_000, lockTtlMs: 5_000, minTtlMs: 0 };

    const lateToken = sharedFetch(lateFetch, { ...options, store: late }).fetchToken(ENDPOINT);
    await eventually('the late replica read the empty store', () => lateReads === 1, REDIS_WAIT_MS);
    const holderToken = sharedFetch(holderFetch.fetch, { ...options, store: holder }).fetchToken(ENDPOINT);
    await eventually('the holder took the lock and fetches', () => holderFetch.calls() === 1, REDIS_WAIT_MS);
    holderFetch.finish('token-of-the-holder');
    t.equal((await holderToken).accessToken, 'token-of-the-holder');
    await holder.unlocks[0];
    holderDone.resolve();

    t.equal((await lateToken).accessToken, 'token-of-the-holder', 'the late replica took the token written while it looked away');
    t.equal(lateFetches, 0, 'and fetched none of its own');
    t.equal(lateReads, 2, 'it looked again once it held the lock');
  });

  t.test('a lock planted by someone else delays a replica by at most tokenWaitMs: then it fetches locally, once', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-planted-${randomBytes(4).toString('hex')}:`;
    const config = configFor(emu, {
      store: { redis: { url: redis.url, keyPrefix: prefix, encryptionKey: KEY, commandTimeoutMs: COMMAND_MS } },
      timeouts: { tokenWaitMs: 2000 },
    });
    const http = client(t);
    const path = '/glp/global/devices/v1/devices';
    const first = await proxy(t, config);
    t.equal((await call(http, first.url + path)).status, 200);
    const [tokenKey] = await inspect.keys(`${prefix}token:*`);
    const slot = tokenKey!.slice(`${prefix}token:`.length);
    await inspect.del(tokenKey!);
    await inspect.set(`${prefix}lock:${slot}`, 'planted', 'PX', 3_600_000);

    const cold = await proxy(t, config);
    const res = await call(http, cold.url + path);
    t.equal(res.status, 200, 'a cold replica still answers: the planted lock did not stop it');
    t.equal(emu.tokenRequests.length, 2, 'with one token request of its own');
    t.equal(await inspect.get(`${prefix}lock:${slot}`), 'planted', 'the planted lock is left alone (not ours to delete)');
    await eventually('and its token is shared', async () => (await inspect.exists(tokenKey!)) === 1, REDIS_WAIT_MS);
  });
});

t.test('replayed "budget closed" messages', { skip: redisSkip }, async (t) => {
  const { redis, inspect } = await redisFor(t);

  interface Api {
    path: string;
    blockedUntil: string | null;
  }
  const budgetOn = async (http: ReturnType<typeof client>, gw: RunningProxy, path: string): Promise<Api | undefined> =>
    (await call(http, `${gw.url}/-/status`)).json<{ rateLimits: { apis: Api[] } }>().rateLimits.apis.find((a) => a.path === path);

  t.test('a captured message published again blocks no replica again', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-replay-${randomBytes(4).toString('hex')}:`;
    const channel = `${prefix}budget`;
    const config = configFor(emu, {
      store: { redis: { url: redis.url, keyPrefix: prefix, encryptionKey: KEY, commandTimeoutMs: COMMAND_MS } },
      rateLimits: { maxWaitMs: 200 },
    });
    const [a, b] = [await proxy(t, config), await proxy(t, config)];
    const captured: string[] = [];
    const listener = inspect.duplicate();
    t.teardown(() => listener.disconnect());
    listener.on('message', (_channel: string, message: string) => captured.push(message));
    await listener.subscribe(channel);
    const http = client(t);

    // a closes the budget of /status/{id} for 1 s and tells b.
    t.equal((await call(http, `${a.url}/com/us-west/status/429?retryAfter=1`)).status, 429);
    await eventually('the message was published', () => captured.length >= 1, REDIS_WAIT_MS);
    await eventually('b heard it', async () => (await budgetOn(http, b, '/status/{id}'))?.blockedUntil != null, REDIS_WAIT_MS);
    await eventually('and the budget reopened on b', async () => (await budgetOn(http, b, '/status/{id}'))?.blockedUntil === null, REDIS_WAIT_MS);
    await eventually('and on a', async () => (await budgetOn(http, a, '/status/{id}'))?.blockedUntil === null, REDIS_WAIT_MS);

    for (const message of captured) t.ok((await inspect.publish(channel, message)) >= 2, 'replayed to both replicas');
    // A real closed budget after the replay: once b has heard it, it has read the replay too (one channel, in order).
    emu.setRateLimit({ limit: 1, windowSeconds: 30 });
    t.equal((await call(http, `${a.url}/com/us-west/compute-ops-mgmt/v1/servers`)).status, 200);
    await eventually('b heard the later message', async () => (await budgetOn(http, b, '/compute-ops-mgmt/v1/servers'))?.blockedUntil != null, REDIS_WAIT_MS);
    t.equal((await budgetOn(http, b, '/status/{id}'))?.blockedUntil, null, 'the replay did not close the budget on b');
    t.equal((await budgetOn(http, a, '/status/{id}'))?.blockedUntil, null, 'nor on a');
  });

  t.test('a sealed message that is stale, or from too far in the future, is ignored', async (t) => {
    const emu = await emulator(t);
    const prefix = `glp-stale-${randomBytes(4).toString('hex')}:`;
    const channel = `${prefix}budget`;
    const gw = await proxy(t, configFor(emu, { store: { redis: { url: redis.url, keyPrefix: prefix, encryptionKey: KEY, commandTimeoutMs: COMMAND_MS } } }));
    const http = client(t);
    await eventually('subscribed', async () => ((await inspect.pubsub('NUMSUB', channel)) as [string, number])[1] === 1, REDIS_WAIT_MS);
    const sealer = new Sealer(KEY);
    const message = (path: string, sentAt: number, nonce: string): string =>
      sealer.seal(JSON.stringify({ c: 'team', w: null, m: 'GET', o: emu.url, p: path, ms: 3_600_000, t: sentAt, n: nonce }), channel);
    await inspect.publish(channel, message('/stale', Date.now() - 10 * 60_000, 'n1'));
    await inspect.publish(channel, message('/future', Date.now() + 10 * 60_000, 'n2'));
    await inspect.publish(channel, message('/fresh', Date.now(), 'n3'));
    await inspect.publish(channel, message('/fresh-again', Date.now(), 'n3'));
    await eventually('the fresh one closes its budget', async () => (await budgetOn(http, gw, '/fresh'))?.blockedUntil != null, REDIS_WAIT_MS);
    t.equal(await budgetOn(http, gw, '/stale'), undefined, 'a stale message is ignored');
    t.equal(await budgetOn(http, gw, '/future'), undefined, 'so is one from the future');
    t.equal(await budgetOn(http, gw, '/fresh-again'), undefined, 'and one whose nonce was seen');
  });
});
