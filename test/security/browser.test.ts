import t from 'tap';
import { call, client, configFor, emulator, proxy } from '../helpers/index.ts';
import { rawHttp } from './support.ts';

const SERVERS = '/com/us-west/compute-ops-mgmt/v1/servers';

t.test('DNS rebinding: a Host not on the anchored allow-list gets 403 on every path, and nothing is forwarded', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  const port = new URL(gw.url).port;
  const foreign = [
    'evil.example',
    `evil.example:${port}`,
    `localhost.evil.example:${port}`,
    `127.0.0.1.evil.example:${port}`,
    `evil-localhost:${port}`,
    `localhost:${port}.evil.example`,
    `localhost.:${port}`,
    `127.0.0.2:${port}`,
    `[::2]:${port}`,
    `localhost:x`,
    `user@localhost:${port}`,
    '',
  ];
  for (const host of foreign) {
    for (const path of [SERVERS, '/-/status', '/-/healthz', '/nope']) {
      const res = await call(http, gw.url + path, { headers: { host } });
      t.equal(res.status, 403, `Host ${JSON.stringify(host)} ${path}: 403`);
      t.equal(res.json().errorCode, 'GREENLAKE_PROXY_HOST_NOT_ALLOWED');
    }
  }
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');
  t.equal(emu.tokenRequests.length, 0, 'and no token was fetched');

  for (const host of [`localhost:${port}`, `LOCALHOST:${port}`, 'localhost', `127.0.0.1:${port}`, `[::1]:${port}`, '[::1]']) {
    t.equal((await call(http, gw.url + SERVERS, { headers: { host } })).status, 200, `Host ${host} is allowed, any port`);
  }
  t.equal(emu.apiRequests.length, 6);
});

t.test('an HTTP/1.0 request without Host is refused', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const res = await rawHttp(gw.url, `GET ${SERVERS} HTTP/1.0\r\n\r\n`);
  t.equal(res.status, 403);
  t.equal(emu.apiRequests.length, 0);
});

t.test('inbound.allowedHosts adds names; the defaults stay; the listen address is allowed', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(
    t,
    configFor(emu, { listen: { host: '127.0.0.5', port: 0 }, inbound: { allowedHosts: ['GreenLake-Proxy.Team.Example', 'fd00::7'] } }),
  );
  const http = client(t);
  for (const host of ['greenlake-proxy.team.example:8443', 'greenlake-proxy.team.example', '[fd00::7]:80', '127.0.0.5:1', 'localhost']) {
    t.equal((await call(http, gw.url + SERVERS, { headers: { host } })).status, 200, `${host} allowed`);
  }
  for (const host of ['team.example', 'x.greenlake-proxy.team.example', 'fd00::7', '127.0.0.6']) {
    t.equal((await call(http, gw.url + SERVERS, { headers: { host } })).status, 403, `${host} refused`);
  }
  t.equal(emu.apiRequests.length, 5);
});

t.test('browser CSRF: a foreign Origin or a cross-site fetch gets 403; tools and allowed origins pass', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { allowedOrigins: ['https://console.team.example'] } }));
  const http = client(t);
  const refused: Array<Record<string, string>> = [
    { origin: 'https://evil.example' },
    { origin: 'null' },
    { origin: gw.url },
    { origin: 'https://console.team.example.evil.example' },
    { 'sec-fetch-site': 'cross-site' },
    { 'sec-fetch-site': 'same-site' },
    { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' },
  ];
  for (const headers of refused) {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await call(http, gw.url + SERVERS, { method, headers: { ...headers, 'content-type': 'text/plain' }, body: method === 'GET' ? undefined : 'x' });
      t.equal(res.status, 403, `${method} with ${JSON.stringify(headers)}: 403`);
      t.equal(res.json().errorCode, 'GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED');
    }
  }
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');

  const allowed: Array<Record<string, string>> = [
    {},
    { 'sec-fetch-site': 'none' },
    { 'sec-fetch-site': 'same-origin' },
    { origin: 'https://console.team.example', 'sec-fetch-site': 'cross-site' },
    { origin: 'HTTPS://CONSOLE.TEAM.EXAMPLE' },
  ];
  for (const headers of allowed) {
    t.equal((await call(http, gw.url + SERVERS, { headers })).status, 200, `${JSON.stringify(headers)}: passes`);
  }
  t.equal(emu.apiRequests.length, allowed.length);
});

t.test('inbound.requireHeader: 412 without it or with another value; probes need nothing', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { requireHeader: { name: 'X-GreenLake-Proxy', value: 'true' } } }));
  const http = client(t);
  const without: Array<Record<string, string>> = [{}, { 'x-greenlake-proxy': 'false' }, { 'x-greenlake-proxy': 'TRUE' }, { 'x-greenlake-proxy-other': 'true' }];
  for (const headers of without) {
    for (const path of [SERVERS, '/-/status']) {
      const res = await call(http, gw.url + path, { headers });
      t.equal(res.status, 412, `${path} ${JSON.stringify(headers)}: 412`);
      t.equal(res.json().errorCode, 'GREENLAKE_PROXY_HEADER_REQUIRED');
      t.match(res.json().message, /X-GreenLake-Proxy/);
    }
  }
  t.equal(emu.apiRequests.length, 0);
  t.equal((await call(http, `${gw.url}/-/healthz`)).status, 200, 'liveness probe open');
  t.equal((await call(http, `${gw.url}/-/readyz`)).status, 200, 'readiness probe open');
  t.equal((await call(http, gw.url + SERVERS, { headers: { 'X-GreenLake-Proxy': 'true' } })).status, 200, 'with the header: forwarded');
  t.equal(emu.apiRequests.length, 1);
});
