import t from 'tap';
import { hashKey } from '../../src/inbound/index.ts';
import { call, client, configFor, emulator, proxy, type Answer, type Tap } from '../helpers/index.ts';
import { freePort } from './support.ts';

const VOLUMES = '/dscc/us1/api/v1/volumes';
const CI_KEY = 'glproxy_rate-ci-0123456789abcdefghijklmnop';
const READER_KEY = 'glproxy_rate-reader-0123456789abcdefghijk';

const apiKeys = [
  { name: 'ci', keyHash: hashKey(CI_KEY), clients: ['team'] },
  { name: 'reader', keyHash: hashKey(READER_KEY), clients: ['team'] },
];

function assertLimited(t: Tap, res: Answer, what: string): void {
  t.equal(res.status, 429, `${what}: 429`);
  t.equal(res.json().errorCode, 'GREENLAKE_PROXY_RATE_LIMITED');
  t.match(res.headers['retry-after'], /^[1-9]\d*$/, 'Retry-After in whole seconds');
  t.equal(res.headers['ratelimit-limit'], '3');
}

t.test('per key: over the limit gets 429 with Retry-After, each key has its own budget, nothing over it is forwarded', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { apiKeys, rateLimit: { max: 3, timeWindowMs: 60_000 } } }));
  const http = client(t);
  const ci = { authorization: `Bearer ${CI_KEY}` };
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await call(http, gw.url + VOLUMES, { headers: ci })).status);
  t.same(statuses, [200, 200, 200]);
  assertLimited(t, await call(http, gw.url + VOLUMES, { headers: ci }), 'the 4th request of ci');
  assertLimited(t, await call(http, `${gw.url}/-/status`, { headers: { 'x-api-key': CI_KEY } }), 'ci on /-/status, same budget');
  t.equal(emu.apiRequests.length, 3, 'only the requests within the limit reached the upstream');
  t.equal((await call(http, gw.url + VOLUMES, { headers: { 'x-api-key': READER_KEY } })).status, 200, 'another key has its own budget');
  t.equal(emu.apiRequests.length, 4);
});

t.test('failed key attempts are counted per address, and X-Forwarded-For does not change the address', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { apiKeys, rateLimit: { max: 3, timeWindowMs: 60_000 } } }));
  const http = client(t);
  const guesses = [];
  for (let i = 0; i < 3; i++) {
    guesses.push((await call(http, gw.url + VOLUMES, { headers: { 'x-api-key': `guess-${i}`, 'x-forwarded-for': `203.0.113.${i}` } })).status);
  }
  t.same(guesses, [401, 401, 401]);
  assertLimited(t, await call(http, gw.url + VOLUMES, { headers: { 'x-api-key': 'guess-4', 'x-forwarded-for': '198.51.100.7' } }), 'the 4th guess');
  t.equal(emu.apiRequests.length, 0);
  t.equal((await call(http, gw.url + VOLUMES, { headers: { 'x-api-key': CI_KEY } })).status, 200, 'a valid key is counted on its own');
});

t.test('without keys: per client address; X-Forwarded-For is ignored; probes are never limited', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { rateLimit: { max: 3 } } }));
  const http = client(t);
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    statuses.push((await call(http, gw.url + VOLUMES, { headers: { 'x-forwarded-for': `203.0.113.${i}`, 'x-real-ip': `203.0.113.${i}` } })).status);
  }
  t.same(statuses, [200, 200, 200]);
  assertLimited(t, await call(http, gw.url + VOLUMES, { headers: { 'x-forwarded-for': '198.51.100.1', forwarded: 'for=198.51.100.1' } }), 'the 4th request from this address');
  t.equal(emu.apiRequests.length, 3);
  for (let i = 0; i < 5; i++) {
    t.equal((await call(http, `${gw.url}/-/healthz`)).status, 200, 'liveness is never limited');
    t.equal((await call(http, `${gw.url}/-/readyz`)).status, 200, 'readiness is never limited');
  }
});

t.test('a key has one budget across the main listener and route ports', async (t) => {
  const emu = await emulator(t);
  const port = await freePort();
  const gw = await proxy(
    t,
    configFor(emu, {
      routes: [{ prefix: '/dscc/us1', upstream: emu.url, port }],
      inbound: { apiKeys, rateLimit: { max: 3, timeWindowMs: 60_000 } },
    }),
  );
  const http = client(t);
  const portUrl = gw.gateway.portUrls.get('/dscc/us1') ?? '';
  const ci = { 'x-api-key': CI_KEY };
  const statuses = [];
  for (const url of [gw.url + VOLUMES, `${portUrl}/api/v1/volumes`, gw.url + VOLUMES]) statuses.push((await call(http, url, { headers: ci })).status);
  t.same(statuses, [200, 200, 200]);
  assertLimited(t, await call(http, `${portUrl}/api/v1/volumes`, { headers: ci }), 'the 4th request, on the route port');
  t.equal(emu.apiRequests.length, 3);
});
