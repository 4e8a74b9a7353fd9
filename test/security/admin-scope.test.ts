import t from 'tap';
import { hashKey } from '../../src/inbound/index.ts';
import { call, client, configFor, emulator, proxy } from '../helpers/index.ts';
import { rawHttp, rawRequest } from './support.ts';

const READER_KEY = 'glproxy_reader-key-0123456789abcdefghijklmnopq';
const OPS_KEY = 'glproxy_ops-key-0123456789abcdefghijklmnopqrstu';
const ADMIN_PATHS: Array<[string, string]> = [
  ['GET', '/-/status'],
  ['GET', '/-/metrics'],
  ['GET', '/-/'],
  ['POST', '/-/quit'],
];

t.test('admin endpoints under any key: a GET-only key for one route gets 403 on /-/status, /-/metrics, the status page and /-/quit', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, {
    inbound: {
      apiKeys: [
        { name: 'reader', keyHash: hashKey(READER_KEY), clients: ['team'], routes: ['/dscc/us1'], methods: ['GET'] },
        { name: 'ops', keyHash: hashKey(OPS_KEY), admin: true },
      ],
    },
  }));
  const http = client(t);
  let quitAsked = false;
  void gw.gateway.quitRequested.then(() => (quitAsked = true));
  for (const [method, path] of ADMIN_PATHS) {
    const res = await call(http, gw.url + path, { method, headers: { 'x-api-key': READER_KEY } });
    t.equal(res.status, 403, `${method} ${path}: 403 for a route key`);
    t.equal(res.json().errorCode, 'GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED', `${method} ${path}: GreenLake shape`);
    t.equal(res.json().debugId, res.headers['x-request-id'], `${method} ${path}: debugId is the X-Request-Id`);
  }
  t.notOk(quitAsked, 'the route key could not stop the gateway');
  for (const [method, path] of ADMIN_PATHS.slice(0, 3)) {
    t.equal((await call(http, gw.url + path, { method, headers: { 'x-api-key': OPS_KEY } })).status, 200, `${method} ${path}: 200 for the admin key`);
  }
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`, { headers: { 'x-api-key': OPS_KEY } })).status, 403, 'the admin-only key may use no route');
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`, { headers: { 'x-api-key': READER_KEY } })).status, 200, 'the route key still works on its route');
  for (const probe of ['/-/healthz', '/-/readyz']) t.equal((await call(http, gw.url + probe)).status, 200, `${probe} stays open to probes`);
  t.equal((await call(http, `${gw.url}/-/quit`, { method: 'POST', headers: { 'x-api-key': OPS_KEY } })).status, 202, 'the admin key may ask for a shutdown');
  await gw.gateway.quitRequested;
});

t.test('the admin listener without Host and browser checks: a rebound Host or a cross-site page gets 403 in GreenLake shape', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { admin: { host: '127.0.0.1', port: 0 }, inbound: { allowedHosts: ['metrics.internal'] } }));
  const admin = gw.gateway.adminUrl as string;
  t.equal((await rawRequest(admin, 'GET /-/metrics HTTP/1.1')).status, 200, 'its own address is allowed');
  const cases: Array<[string, string[], string]> = [
    ['a rebound Host', ['Host: attacker.example'], 'GREENLAKE_PROXY_HOST_NOT_ALLOWED'],
    ['a foreign Origin', ['Origin: http://attacker.example'], 'GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED'],
    ['Sec-Fetch-Site: cross-site', ['Sec-Fetch-Site: cross-site'], 'GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED'],
  ];
  for (const [what, headers, code] of cases) {
    const answer = await rawHttpWithHost(admin, headers);
    t.equal(answer.status, 403, `${what}: 403`);
    t.equal((JSON.parse(answer.body) as Record<string, unknown>)['errorCode'], code, `${what}: ${code}`);
  }
  const configured = await rawHttpWithHost(admin, ['Host: metrics.internal']);
  t.equal(configured.status, 200, 'a host in inbound.allowedHosts is accepted');
});

/** One GET /-/metrics with the given headers; a Host of the listener's own unless one is given. */
async function rawHttpWithHost(url: string, headers: string[]): Promise<{ status: number; body: string }> {
  const host = headers.some((h) => h.toLowerCase().startsWith('host:')) ? [] : [`Host: ${new URL(url).host}`];
  return rawHttp(url, `GET /-/metrics HTTP/1.1\r\n${[...host, ...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`);
}
