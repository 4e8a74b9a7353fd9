import t from 'tap';
import { call, client, configFor, delay, emulator, proxy } from './helpers/index.ts';

const ECHO = '/com/us-west/echo/1';

t.test('requests failed fast during a token cool-down are told Retry-After of at least 1 s, to its very end', async (t) => {
  const emu = await emulator(t);
  // One attempt per round; the cool-down after it lasts 1.5 to 3 s, so its last second is met.
  const gw = await proxy(t, configFor(emu, { tokens: { minTtlSeconds: 10, maxAttempts: 1, backoffBaseMs: 3000, backoffMaxMs: 3000 } }));
  const http = client(t);
  emu.setTokenFault({ kind: 'status', status: 503, times: 1 });
  t.equal((await call(http, gw.url + ECHO)).status, 502, 'the failed round');

  // Until the attempt after the cool-down brings a token (bounded: a hang fails, never a slow machine).
  const retryAfters: string[] = [];
  const until = Date.now() + 30_000;
  for (let res = await call(http, gw.url + ECHO); res.status !== 200; res = await call(http, gw.url + ECHO)) {
    t.equal(res.status, 502);
    if (typeof res.headers['retry-after'] === 'string') retryAfters.push(res.headers['retry-after']);
    if (Date.now() > until) throw new Error('no token after the cool-down');
    await delay(10);
  }
  t.ok(retryAfters.length > 0, `requests in the cool-down were told when to come back (${retryAfters.length})`);
  t.same(retryAfters.filter((value) => !/^[1-9]\d*$/.test(value)), [], 'always a whole number of seconds, never 0');
  t.equal(emu.tokenRequests.length, 2, 'the failed attempt and the one after the cool-down: the requests in it fetched nothing');
});
