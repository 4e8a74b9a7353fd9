import { Readable } from 'node:stream';
import t from 'tap';
import type { Emulator } from '../../src/emulator/index.ts';
import { call, client, configFor, emulator, proxy, type RunningProxy, type Tap } from '../helpers/index.ts';
import { freePort, rawHttp, rawRequest } from './support.ts';

/** The main listener routes /com/us-west to `main`; a port of its own serves `side` at /, with its own client. */
async function twoUpstreams(t: Tap): Promise<{ main: Emulator; side: Emulator; gw: RunningProxy; sideUrl: string }> {
  const main = await emulator(t);
  const side = await emulator(t);
  const port = await freePort();
  const base = configFor(main);
  const mainClient = (base['clients'] as Array<Record<string, unknown>>)[0];
  const gw = await proxy(t, {
    ...base,
    clients: [mainClient, { ...mainClient, name: 'side', tokenUrl: side.tokenUrl }],
    routes: [
      { prefix: '/com/us-west', upstream: main.url },
      { port, upstream: side.url, client: 'side' },
    ],
  });
  const sideUrl = gw.gateway.portUrls.get(`port:${port}`) ?? '';
  return { main, side, gw, sideUrl };
}

function nothingForwarded(t: Tap, ...emulators: Emulator[]): void {
  t.same(
    emulators.map((emu) => emu.apiRequests.length),
    emulators.map(() => 0),
    'no upstream saw a request',
  );
}

t.test('dot segments in every encoding, with ;params and look-alike dots, are refused on prefix and port routes', async (t) => {
  const { main, side, gw, sideUrl } = await twoUpstreams(t);
  const http = client(t);
  const escapes = [
    '/..',
    '/../x',
    '/%2e%2e/x',
    '/%2E%2e/x',
    '/%2e%2E/x',
    '/.%2e/x',
    '/%2e./x',
    '/a/%252e%252e/x',
    '/a%2f..%2fb',
    '/a%2F%2E%2E%2Fb',
    '/a%5c..%5cb',
    '/a\\..\\b',
    '/a/..;/b',
    '/a/..;jsessionid=1/b',
    '/a/%2e%2e;x/b',
    '/a/%E2%80%A5/b',
    '/a/./b',
    '/a/%00/b',
  ];
  for (const escape of escapes) {
    for (const url of [`${gw.url}/com/us-west${escape}`, `${sideUrl}${escape}`]) {
      const res = await call(http, url);
      t.equal(res.status, 400, `${url.replace(/^http:\/\/[^/]+/, '')} is refused`);
      t.equal(res.json().errorCode, 'GREENLAKE_PROXY_BAD_PATH');
    }
  }
  nothingForwarded(t, main, side);
});

t.test('//host, encoded or with a backslash, and a raw # are refused; @ in a path stays on the route', async (t) => {
  const { main, side, gw, sideUrl } = await twoUpstreams(t);
  const http = client(t);
  for (const path of ['//evil.example/x', '/%2F%2Fevil.example/x', '/%2f/evil.example', '/\\evil.example/x', '/%5Cevil.example/x', '/x/..#/../y', '/a#b']) {
    const viaPort = await call(http, sideUrl + path);
    t.equal(viaPort.status, 400, `port route: ${path} is refused`);
    const viaPrefix = await call(http, `${gw.url}/com/us-west${path}`);
    t.equal(viaPrefix.status, 400, `prefix route: ${path} is refused`);
  }
  nothingForwarded(t, main, side);

  const userinfo = await call(http, `${gw.url}/com/us-west@evil.example/x`);
  t.equal(userinfo.status, 404, 'a prefix followed by @ is no route at all');
  t.equal(userinfo.json().errorCode, 'GREENLAKE_PROXY_ROUTE_NOT_FOUND');
  nothingForwarded(t, main, side);

  for (const path of ['/@evil.example/x', '/echo/@evil.example', '/echo@evil.example:80/x']) {
    await call(http, sideUrl + path);
  }
  t.same(
    side.apiRequests.map((r) => [r.rawUrl, r.host]),
    ['/@evil.example/x', '/echo/@evil.example', '/echo@evil.example:80/x'].map((path) => [path, new URL(side.url).host]),
    '@ stayed part of the path, on the route\'s own upstream',
  );
  t.equal(main.apiRequests.length, 0);
});

t.test('absolute-form, asterisk-form and CONNECT targets never reach an upstream', async (t) => {
  const { main, side, gw, sideUrl } = await twoUpstreams(t);
  const own = new URL(gw.url).host;
  for (const [url, line] of [
    [gw.url, 'GET http://evil.example/com/us-west/x HTTP/1.1'],
    [gw.url, `GET http://${own}/com/us-west/compute-ops-mgmt/v1/servers HTTP/1.1`],
    [gw.url, 'GET https://evil.example:443/ HTTP/1.1'],
    [sideUrl, 'GET http://evil.example/devices/v1/devices HTTP/1.1'],
    [gw.url, 'OPTIONS * HTTP/1.1'],
  ] as const) {
    const res = await rawRequest(url, line);
    t.ok(res.status === 400 || res.status === 404, `${line}: refused (${res.status})`);
    t.match(res.body, /"errorCode":"GREENLAKE_PROXY_/, 'in GreenLake shape');
  }
  const tunnel = await rawRequest(gw.url, 'CONNECT evil.example:443 HTTP/1.1');
  t.notOk(tunnel.status >= 200 && tunnel.status < 300, `CONNECT is not tunnelled (${tunnel.status || 'closed'})`);
  nothingForwarded(t, main, side);
});

t.test('CR/LF: raw ones are refused by the parser, encoded ones in the path are refused, in the query they stay encoded', async (t) => {
  const { main, side, gw } = await twoUpstreams(t);
  const host = new URL(gw.url).host;
  const smuggled = [
    `GET /com/us-west/x\r\nX-Injected: 1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    `GET /com/us-west/x HTTP/1.1\r\nHost: ${host}\r\nX-A: a\rX-Injected: 1\r\nConnection: close\r\n\r\n`,
    `GET /com/us-west/x HTTP/1.1\r\nHost: ${host}\r\nX-A: a\nX-Injected: 1\r\nConnection: close\r\n\r\n`,
    `GET /com/us-west/x HTTP/1.1\r\nHost: ${host}\r\nX-A : a\r\nConnection: close\r\n\r\n`,
  ];
  for (const bytes of smuggled) {
    const res = await rawHttp(gw.url, bytes);
    t.equal(res.status, 400, `refused: ${JSON.stringify(bytes.slice(0, 50))}`);
    t.match(res.body, /"errorCode":"GREENLAKE_PROXY_BAD_REQUEST"/);
  }
  const http = client(t);
  for (const path of ['/x%0d%0aX-Injected:%201', '/x%0AX-Injected', '/x%0D', '/x%7f']) {
    const res = await call(http, `${gw.url}/com/us-west${path}`);
    t.equal(res.status, 400, `${path} is refused`);
  }
  nothingForwarded(t, main, side);

  const query = '/echo/q?text=a%0d%0aX-Injected:%201';
  const res = await call(http, `${gw.url}/com/us-west${query}`);
  t.equal(res.status, 200);
  t.equal(main.apiRequests[0]?.rawUrl, query, 'the query went upstream byte for byte, still encoded');
  t.equal(main.apiRequests[0]?.headers['x-injected'], undefined, 'and injected no header');
});

t.test('oversized request heads get 431 in GreenLake shape, with the default and a configured limit', async (t) => {
  const emu = await emulator(t);
  const defaults = await proxy(t, configFor(emu));
  const small = await proxy(t, configFor(emu, { inbound: { maxHeaderBytes: 4096 } }));
  const huge = `X-Big: ${'a'.repeat(20 * 1024)}`;
  const byDefault = await rawRequest(defaults.url, 'GET /com/us-west/compute-ops-mgmt/v1/servers HTTP/1.1', [huge]);
  t.equal(byDefault.status, 431);
  t.match(byDefault.body, /"httpStatusCode":431,"errorCode":"GREENLAKE_PROXY_HEADERS_TOO_LARGE"/);
  t.match(byDefault.head, /x-request-id: [0-9a-f-]{36}/i, 'with a request id, which is also the debugId');

  const manySmall = Array.from({ length: 100 }, (_, i) => `X-H${i}: ${'b'.repeat(50)}`);
  const limited = await rawRequest(small.url, 'GET /com/us-west/compute-ops-mgmt/v1/servers HTTP/1.1', manySmall);
  t.equal(limited.status, 431, 'many headers past maxHeaderBytes');
  const fine = await rawRequest(defaults.url, 'GET /com/us-west/compute-ops-mgmt/v1/servers HTTP/1.1', manySmall);
  t.equal(fine.status, 200, 'the same headers pass the default limit');
  t.equal(emu.apiRequests.length, 1, 'only that one request was forwarded');
});

t.test('a caller that never finishes its headers gets 408 and is disconnected; a slow body is not cut', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { timeouts: { inboundHeadersMs: 300 } }));
  const host = new URL(gw.url).host;
  const stalled = await rawHttp(gw.url, `GET /com/us-west/compute-ops-mgmt/v1/servers HTTP/1.1\r\nHost: ${host}\r\nX-Slow: 1`);
  t.equal(stalled.status, 408, 'unfinished headers: 408, then the connection is closed');
  t.match(stalled.body, /"errorCode":"GREENLAKE_PROXY_REQUEST_TIMEOUT"/);
  t.equal(emu.apiRequests.length, 0);

  // Headers in time, then a body that trickles for longer than the headers timeout.
  const chunks = Array.from({ length: 5 }, () => Buffer.alloc(1000, 'x'));
  const body = Readable.from(
    (async function* trickle() {
      for (const chunk of chunks) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        yield chunk;
      }
    })(),
  );
  const res = await client(t).request({
    origin: gw.url,
    path: '/dscc/us1/upload',
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-length': '5000' },
    body,
  });
  t.equal(res.statusCode, 200, 'the slow upload completed');
  t.same(((await res.body.json()) as { bytes: number }).bytes, 5000);
});

t.test('X-Forwarded-* decides nothing: not the Host check, not Location rewriting', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  const spoofed = await call(http, `${gw.url}/glp/global/devices/v1/devices`, {
    headers: { host: 'evil.example', 'x-forwarded-host': 'localhost', forwarded: 'host=localhost' },
  });
  t.equal(spoofed.status, 403, 'a foreign Host is refused whatever X-Forwarded-Host says');
  t.equal(emu.apiRequests.length, 0);

  const redirect = await call(http, `${gw.url}/glp/global/redirect?to=/devices/v1/async-operations/1&absolute=1`, {
    headers: { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https', 'x-forwarded-port': '443', forwarded: 'host=evil.example;proto=https' },
  });
  t.equal(redirect.status, 302);
  t.equal(redirect.headers.location, `${gw.url}/glp/global/devices/v1/async-operations/1`, 'Location points at the real (allow-listed) Host');
});

t.test('an upstream redirect is returned to the caller, never followed, even to another configured upstream', async (t) => {
  const { main, side, gw } = await twoUpstreams(t);
  const http = client(t);
  for (const status of [301, 302, 303, 307, 308]) {
    const target = `${side.url}/devices/v1/devices`;
    const res = await call(http, `${gw.url}/com/us-west/redirect?to=${encodeURIComponent(target)}&status=${status}`, { method: 'GET' });
    t.equal(res.status, status, `${status} returned as is`);
    t.equal(res.headers.location, target, 'Location on another host is left alone');
  }
  t.equal(side.apiRequests.length, 0, 'the redirect target never saw a request (so never a token)');
  t.equal(main.apiRequests.length, 5);
});
