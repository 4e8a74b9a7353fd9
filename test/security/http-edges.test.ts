import { connect, type Socket } from 'node:net';
import t from 'tap';
import { configFor, emulator, eventually, proxy, type RunningProxy, type Tap } from '../helpers/index.ts';
import { rawExchange, rawUpstream, type RawUpstream, type RawUpstreamRequest } from './support.ts';

/** A proxy whose one route, /u, goes to a raw upstream answering with `answer`; tokens come from an emulator. */
async function throughRaw(t: Tap, answer: (request: RawUpstreamRequest, socket: Socket) => void): Promise<{ up: RawUpstream; gw: RunningProxy; host: string }> {
  const up = await rawUpstream(answer);
  t.teardown(() => up.close());
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/u', upstream: up.url }] }));
  return { up, gw, host: new URL(gw.url).host };
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

function pathOf(request: RawUpstreamRequest): string {
  return request.requestLine.split(' ')[1] ?? '';
}

function headAndJson(bytes: Buffer): { status: number; head: string; json: Record<string, unknown> | undefined } {
  const text = bytes.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text.slice(end + 4)) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status, head, json };
}

function headerOf(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

/** A socket to the proxy that keeps everything it receives. */
function openClient(url: string): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed }));
  });
}

t.test('TRACE echoing the bearer token: TRACE, QUERY, PROPFIND, MKCOL and CONNECT get 405 in GreenLake shape with Allow and reach no one', async (t) => {
  const { up, gw, host } = await throughRaw(t, (_request, socket) => socket.write(OK));
  for (const method of ['TRACE', 'QUERY', 'PROPFIND', 'MKCOL', 'LOCK', 'CONNECT']) {
    const target = method === 'CONNECT' ? host : '/u/echo';
    const answer = headAndJson(await rawExchange(gw.url, `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n`));
    t.equal(answer.status, 405, `${method} is refused`);
    t.equal(answer.json?.['errorCode'], 'GREENLAKE_PROXY_METHOD_NOT_ALLOWED', `${method}: GreenLake error code`);
    t.equal(answer.json?.['debugId'], headerOf(answer.head, 'x-request-id'), `${method}: debugId is the X-Request-Id`);
    t.equal(headerOf(answer.head, 'allow'), 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', `${method}: Allow lists the forwarded methods`);
  }
  t.same(up.received, [], 'the upstream saw none of them');
  t.ok(gw.logs.some((line) => line.includes('"method":"CONNECT"') && line.includes('GREENLAKE_PROXY_METHOD_NOT_ALLOWED')), 'the CONNECT refusal is logged');
});

t.test('a method-override header turning a GET into a DELETE upstream: X-HTTP-Method-Override, X-HTTP-Method, X-Method-Override are dropped', async (t) => {
  const { up, gw, host } = await throughRaw(t, (_request, socket) => socket.write(OK));
  const overrides = 'X-HTTP-Method-Override: DELETE\r\nX-HTTP-Method: DELETE\r\nX-Method-Override: DELETE\r\n';
  const answer = headAndJson(await rawExchange(gw.url, `GET /u/devices HTTP/1.1\r\nHost: ${host}\r\n${overrides}Connection: close\r\n\r\n`));
  t.equal(answer.status, 200);
  const head = up.received[0]?.head.toLowerCase() ?? '';
  t.match(head, /^get \/devices http\/1\.1/, 'the upstream got the GET');
  t.notMatch(head, /method-override|x-http-method/, 'and no override header');
});

t.test('an empty reply for a 304 or 204 with Content-Length: the caller gets the status and headers', async (t) => {
  const { gw, host } = await throughRaw(t, (request, socket) => {
    if (pathOf(request) === '/304') socket.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 1234\r\nETag: "v1"\r\n\r\n');
    else socket.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n');
  });
  for (const [path, status] of [['/304', 304], ['/204', 204]] as const) {
    for (let i = 0; i < 2; i++) {
      const answer = headAndJson(await rawExchange(gw.url, `GET /u${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
      t.equal(answer.status, status, `${path} (try ${i + 1}) reaches the caller`);
    }
  }
  const etagged = headAndJson(await rawExchange(gw.url, `GET /u/304 HTTP/1.1\r\nHost: ${host}\r\nIf-None-Match: "v1"\r\nConnection: close\r\n\r\n`));
  t.equal(headerOf(etagged.head, 'etag'), '"v1"', 'the 304 keeps its ETag');
  t.notOk(gw.logs.some((line) => line.includes('cut short')), 'no answer was logged as cut short');
});

t.test('a caller that hangs up before the upstream headers leaves the upstream request running: it is aborted at once, one info line with its own code', async (t) => {
  const upstreamClosed: Promise<void>[] = [];
  const { up, gw, host } = await throughRaw(t, (_request, socket) => {
    upstreamClosed.push(new Promise((resolve) => socket.on('close', () => resolve())));
  });
  const caller = await openClient(gw.url);
  caller.socket.write(`GET /u/slow HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await eventually('the upstream got the request', () => up.received.length === 1);
  caller.socket.destroy();
  // upstreamHeadersMs is 60 s: the upstream connection closing before it means the request was aborted.
  await upstreamClosed[0];
  t.pass('the upstream request was aborted');
  await eventually('the abort is logged', () => gw.logs.some((line) => line.includes('GREENLAKE_PROXY_CALLER_GONE')));
  const gone = gw.logs.filter((line) => line.includes('GREENLAKE_PROXY_CALLER_GONE'));
  t.equal(gone.length, 1, 'one line says the caller went away');
  t.match(gone[0], /"level":"info"/, 'at info');
  t.notOk(gw.logs.some((line) => line.includes('"request failed"')), 'no second, wrong error (a timeout) is logged');
});

t.test('UTF-8 bytes in a response header value re-encoded as Latin-1: Content-Disposition filenames pass byte for byte', async (t) => {
  const filename = Buffer.from('attachment; filename="résumé 日本.txt"', 'utf8');
  const answers: Record<string, Buffer> = {
    '/length': Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Disposition: '), filename, Buffer.from('\r\nContent-Length: 2\r\n\r\nok')]),
    '/chunked': Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Disposition: '), filename, Buffer.from('\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n')]),
    '/empty': Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nContent-Disposition: '), filename, Buffer.from('\r\nContent-Length: 0\r\n\r\n')]),
  };
  const { gw, host } = await throughRaw(t, (request, socket) => socket.write(answers[pathOf(request)] ?? OK));
  for (const path of Object.keys(answers)) {
    for (const method of ['GET', 'HEAD']) {
      const bytes = await rawExchange(gw.url, `${method} /u${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      t.ok(bytes.includes(Buffer.concat([Buffer.from('content-disposition: '), filename, Buffer.from('\r\n')])), `${method} ${path}: the header's bytes are unchanged`);
    }
  }
});

t.test('framing the proxy would pass on or answer in Node\'s own shape: 501 for other codings, 400 for two Hosts or none, 417 and 431 in GreenLake shape', async (t) => {
  const { up, gw, host } = await throughRaw(t, (_request, socket) => socket.write(OK));
  const cases: Array<[string, string, number, string]> = [
    ['Transfer-Encoding: gzip', `POST /u/x HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n`, 501, 'GREENLAKE_PROXY_NOT_IMPLEMENTED'],
    ['Transfer-Encoding: gzip, chunked', `POST /u/x HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`, 501, 'GREENLAKE_PROXY_NOT_IMPLEMENTED'],
    ['two Host headers', `GET /u/x HTTP/1.1\r\nHost: ${host}\r\nHost: evil.example\r\nConnection: close\r\n\r\n`, 400, 'GREENLAKE_PROXY_BAD_REQUEST'],
    ['no Host on HTTP/1.1', 'GET /u/x HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'GREENLAKE_PROXY_BAD_REQUEST'],
    ['Expect: something', `GET /u/x HTTP/1.1\r\nHost: ${host}\r\nExpect: something\r\nConnection: close\r\n\r\n`, 417, 'GREENLAKE_PROXY_EXPECTATION_FAILED'],
    ['headers too large', `GET /u/x HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\nConnection: close\r\n\r\n`, 431, 'GREENLAKE_PROXY_HEADERS_TOO_LARGE'],
  ];
  for (const [what, bytes, status, code] of cases) {
    const answer = headAndJson(await rawExchange(gw.url, bytes));
    t.equal(answer.status, status, `${what}: ${status}`);
    t.equal(answer.json?.['errorCode'], code, `${what}: ${code}`);
    t.equal(answer.json?.['debugId'], headerOf(answer.head, 'x-request-id'), `${what}: debugId is the X-Request-Id`);
  }
  t.same(up.received, [], 'none of them was forwarded');
});

t.test('percent bytes that are not UTF-8 refused with 400: /caf%E9 is forwarded as sent', async (t) => {
  const { up, gw, host } = await throughRaw(t, (_request, socket) => socket.write(OK));
  for (const path of ['/caf%E9', '/caf%e9/x%FF%FE?q=%E9']) {
    const answer = headAndJson(await rawExchange(gw.url, `GET /u${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    t.equal(answer.status, 200, `${path} is forwarded`);
    t.equal(pathOf(up.received.at(-1) as RawUpstreamRequest), path, `${path} reaches the upstream byte for byte`);
  }
  const escape = headAndJson(await rawExchange(gw.url, `GET /u/%E9/%2e%2e/x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
  t.equal(escape.status, 400, 'a dot segment next to such a byte is still refused');
});

t.test('an upstream answering badly reported as unreachable: 100 Continue unasked, 101, broken framing give 502 GREENLAKE_PROXY_UPSTREAM_BAD_ANSWER', async (t) => {
  const answers: Record<string, string> = {
    '/continue': `HTTP/1.1 100 Continue\r\n\r\n${OK}`,
    '/switch': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n',
    '/framing': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
    '/garbage': 'HTXP/1.1 200 OK\r\n\r\n',
  };
  const { gw, host } = await throughRaw(t, (request, socket) => socket.write(answers[pathOf(request)] ?? OK));
  for (const path of Object.keys(answers)) {
    const answer = headAndJson(await rawExchange(gw.url, `GET /u${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    t.equal(answer.status, 502, `${path}: 502`);
    t.equal(answer.json?.['errorCode'], 'GREENLAKE_PROXY_UPSTREAM_BAD_ANSWER', `${path}: the upstream answered badly`);
    t.match(answer.json?.['message'], /answered with something that is not a valid HTTP answer/, `${path}: the message says so, not "unreachable"`);
  }
});

t.test('pipelined requests overtaking each other upstream: each is forwarded once the one before it was answered', async (t) => {
  let firstAnswered = false;
  const overtook: string[] = [];
  const { up, gw, host } = await throughRaw(t, (request, socket) => {
    const path = pathOf(request);
    if (path === '/first') {
      // Held a while: long enough for the requests behind it to overtake it, were they forwarded at once.
      setTimeout(() => {
        firstAnswered = true;
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst');
      }, 400);
      return;
    }
    if (!firstAnswered) overtook.push(path);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${path.length}\r\n\r\n${path}`);
  });
  const caller = await openClient(gw.url);
  const request = (path: string, close = false): string => `GET /u${path} HTTP/1.1\r\nHost: ${host}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
  caller.socket.write(request('/first') + request('/second') + request('/third', true));
  await caller.closed;
  t.same(up.received.map(pathOf), ['/first', '/second', '/third'], 'the upstream got them in order');
  t.same(overtook, [], 'none reached the upstream while the first was unanswered');
  t.same(caller.received().toString('latin1').match(/first|\/second|\/third/g), ['first', '/second', '/third'], 'the caller got the answers in order');
});

t.test('a parse error written into a running answer: a malformed request pipelined behind a streaming one closes the connection without a word', async (t) => {
  let streaming: Socket | undefined;
  const { up, gw, host } = await throughRaw(t, (_request, socket) => {
    streaming = socket;
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\npart1 \r\n');
  });
  const caller = await openClient(gw.url);
  caller.socket.write(`GET /u/stream HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await eventually('the first part reached the caller', () => caller.received().includes('part1'));
  caller.socket.write('NOT HTTP AT ALL\r\n\r\n');
  await eventually('the parse error is logged', () => gw.logs.some((line) => line.includes('request refused by the HTTP parser')));
  streaming?.write('5\r\npart2\r\n0\r\n\r\n');
  await caller.closed;
  const text = caller.received().toString('latin1');
  t.notMatch(text, /HTTP\/1\.1 400/, 'no 400 was written into the answer');
  t.match(text, /part1 \r\n5\r\npart2\r\n0\r\n\r\n$/, 'the answer is complete, then the connection closed');
  t.equal(up.received.length, 1, 'nothing else was forwarded');
});

t.test('Fastify\'s {"error":"Service Unavailable"} while draining: a request on a kept-alive connection gets GREENLAKE_PROXY_SHUTTING_DOWN, probes and status still answer', async (t) => {
  const held: Socket[] = [];
  const { up, gw, host } = await throughRaw(t, (request, socket) => {
    if (pathOf(request) === '/held') held.push(socket);
    else socket.write(OK);
  });
  // Three connections, each with a request in flight, so none is idle when the shutdown starts.
  const callers = await Promise.all([openClient(gw.url), openClient(gw.url), openClient(gw.url)]);
  for (const caller of callers) caller.socket.write(`GET /u/held HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await eventually('the upstream holds all three', () => held.length === 3);
  const closing = gw.gateway.close(10_000);
  await eventually('the listener stops accepting', () => refused(gw.url));
  const [proxied, readiness, status] = callers as [Awaited<ReturnType<typeof openClient>>, Awaited<ReturnType<typeof openClient>>, Awaited<ReturnType<typeof openClient>>];
  proxied.socket.write(`GET /u/late HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  readiness.socket.write(`GET /-/readyz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  status.socket.write(`GET /-/status HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  await eventually('the shutting-down answer is logged', () => gw.logs.some((line) => line.includes('GREENLAKE_PROXY_SHUTTING_DOWN')));
  for (const socket of held) socket.write(OK);
  await Promise.all(callers.map((c) => c.closed));
  await closing;

  const late = secondAnswer(proxied.received());
  t.equal(late.status, 503, 'the late request gets 503');
  t.equal(late.json?.['errorCode'], 'GREENLAKE_PROXY_SHUTTING_DOWN', 'with the proxy\'s own code');
  const requestId = headerOf(late.head, 'x-request-id');
  t.ok(requestId, 'and an X-Request-Id');
  t.equal(late.json?.['debugId'], requestId, 'which is its debugId');
  t.ok(gw.logs.some((line) => line.includes(String(requestId)) && line.includes('GREENLAKE_PROXY_SHUTTING_DOWN')), 'and a log line');
  t.equal(headerOf(late.head, 'connection'), 'close', 'and the connection is closed after it');
  const ready = secondAnswer(readiness.received());
  t.equal(ready.status, 503, 'readiness is 503');
  t.same(ready.json, { status: 'shutting down' }, 'the proxy\'s own readiness answer');
  t.equal(secondAnswer(status.received()).json?.['ready'], false, '/-/status says ready: false');
  t.notOk(up.received.some((r) => pathOf(r) === '/late'), 'the late request was not forwarded');
});

function refused(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(true));
  });
}

/** The second of two answers on one connection (each with a Content-Length). */
function secondAnswer(bytes: Buffer): ReturnType<typeof headAndJson> {
  const text = bytes.toString('latin1');
  const firstEnd = text.indexOf('\r\n\r\n');
  const length = Number(/content-length: (\d+)/i.exec(text.slice(0, firstEnd))?.[1] ?? 0);
  return headAndJson(Buffer.from(text.slice(firstEnd + 4 + length), 'latin1'));
}

t.test('headers named in a Connection header are dropped in both directions (hop-by-hop, RFC 9110 7.6.1), whatever their case', async (t) => {
  const answer = 'HTTP/1.1 200 OK\r\nConnection: X-Up-Hop, keep-alive\r\nX-Up-Hop: secret-hop\r\nX-Up-End: kept\r\nContent-Length: 2\r\n\r\nok';
  const { up, gw, host } = await throughRaw(t, (_request, socket) => socket.write(answer));
  const bytes = await rawExchange(gw.url, `GET /u/x HTTP/1.1\r\nHost: ${host}\r\nConnection: X-Hop-Only, close\r\nX-Hop-Only: private\r\nX-End: passed\r\n\r\n`);
  const down = headAndJson(bytes);
  t.equal(down.status, 200);
  const upHead = up.received[0]?.head.toLowerCase() ?? '';
  t.match(upHead, /\r\nx-end: passed/, 'an end-to-end request header reaches the upstream');
  t.notMatch(upHead, /x-hop-only/, 'a request header the Connection header names does not');
  t.equal(headerOf(down.head.toLowerCase(), 'x-up-end'), 'kept', 'an end-to-end answer header reaches the caller');
  t.equal(headerOf(down.head.toLowerCase(), 'x-up-hop'), undefined, 'an answer header the Connection header names does not');
});
