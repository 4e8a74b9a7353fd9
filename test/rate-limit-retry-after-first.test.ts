import t from 'tap';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';
import { customUpstream } from './helpers/custom-upstream.ts';

/**
 * A 429 carrying both Retry-After and a rate-limit reset that disagree: Retry-After is the
 * upstream's word on when to come back; the reset only says when the window turns.
 */
for (const [retryAfter, reset, outcome] of [
  ['1', '60', 'held, then sent'],
  ['60', '1', 'refused by the proxy'],
] as const) {
  t.test(`a 429 with Retry-After ${retryAfter} s and a reset in ${reset} s closes the budget for ${retryAfter} s: the next request is ${outcome}`, async (t) => {
    const emu = await emulator(t);
    let throttled = false;
    const up = await customUpstream(t, () => {
      if (throttled) return { status: 200 };
      throttled = true;
      return { status: 429, headers: { 'retry-after': retryAfter, 'ratelimit-limit': '10', 'ratelimit-remaining': '0', 'ratelimit-reset': reset } };
    });
    const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/custom', upstream: up.url }], rateLimits: { maxWaitMs: 10_000 } }));
    const http = client(t);
    // POST: never retried by the proxy, so the upstream's 429 reaches the caller.
    t.equal((await call(http, `${gw.url}/custom/items`, { method: 'POST', body: '{}' })).status, 429, "the upstream's 429 passes");
    const next = await call(http, `${gw.url}/custom/items`, { method: 'POST', body: '{}' });
    if (retryAfter === '1') {
      t.equal(next.status, 200, 'held for the Retry-After, then sent');
      t.equal(up.seen.length, 2);
    } else {
      t.equal(next.status, 429);
      t.equal(next.json().errorCode, 'GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED', 'the proxy answers: the Retry-After is beyond maxWaitMs');
      t.equal(up.seen.length, 1, 'nothing more was sent');
    }
  });
}
