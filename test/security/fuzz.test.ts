import fc from 'fast-check';
import t from 'tap';
import type { Emulator } from '../../src/emulator/index.ts';
import { call, client, emulator, proxy, type Tap } from '../helpers/index.ts';
import { freePort } from './support.ts';

const RUNS = 600;

/**
 * Three routes, each to its own emulator, under its own base path, with its own client:
 * /a -> A (/echo/a), /a/b (nested, so climbing out of it lands in /a) -> B (/echo/b),
 * a port of its own -> C (/echo/c). Every forwarded request is journaled by exactly one
 * emulator, with the client_id of the token it carried.
 */
interface Upstream {
  readonly name: string;
  readonly emu: Emulator;
  readonly basePath: string;
  readonly clientId: string;
}

async function upstream(t: Tap, name: string): Promise<Upstream> {
  const clientId = `client-${name}`;
  const emu = await emulator(t, { clients: [{ clientId, clientSecret: `secret-${name}-0123456789abcdef` }] });
  return { name, emu, basePath: `/echo/${name}`, clientId };
}

/** The route a raw target belongs to, worked out independently of the proxy's route table. */
function expectedUpstream(listener: 'main' | 'port', target: string, ups: Record<'a' | 'b' | 'c', Upstream>): Upstream | undefined {
  if (target.startsWith('/-/')) return undefined;
  if (listener === 'port') return ups.c;
  const under = (prefix: string): boolean => target.startsWith(prefix) && ['', '/', '?'].includes(target.charAt(prefix.length));
  if (under('/a/b')) return ups.b;
  if (under('/a')) return ups.a;
  return undefined;
}

const SEGMENTS = [
  '..', '.', '%2e%2e', '%2E%2e', '%2e%2E', '.%2e', '%2e.', '%2e', '%252e%252e', '%25252e', '..;', '..;x', '%2e%2e;', '%E2%80%A5', '%EF%BC%8E%EF%BC%8E',
  '', 'x', 'a', 'b', 'c', 'ab', 'echo', 'v1', '-', '%2f', '%2F', '%5c', '%5C', '\\', '\\..', '..\\', '%2f..', '..%2f', '%5c..',
  '@evil.example', 'evil.example', 'http:', 'https:%2f%2fevil.example', '%00', '%0d%0a', '%0a', '%7f', '#', '#/..', '?', '?x=/../..', '?a=%2e%2e', ';',
  '%', '%zz', '%2', '~', '*', '%40', ':', '127.0.0.1:1', '%25', '%u002e',
];

const segment = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...SEGMENTS) }, { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@%-]{0,6}$/) });
const separator = fc.constantFrom('/', '/', '/', '//', '\\', '%2f', '?', '');
const prefix = fc.constantFrom('/a', '/a/b', '/a/b', '/ab', '/a/bc', '/a%2fb', '/A', '/b', '', '/-', '/-/status', '/%61');

const path = fc
  .tuple(prefix, fc.array(fc.tuple(separator, segment), { maxLength: 6 }))
  .map(([start, rest]) => {
    const text = start + rest.map(([sep, seg]) => sep + seg).join('');
    return text.startsWith('/') ? text : `/${text}`;
  });

const headers = fc.record(
  {
    host: fc.constantFrom('localhost', '127.0.0.1', 'evil.example', '[::1]'),
    'x-forwarded-host': fc.constantFrom('evil.example', 'localhost'),
    'x-forwarded-proto': fc.constantFrom('https', 'gopher'),
    'x-forwarded-prefix': fc.constantFrom('/a/b', '/../..'),
    'x-original-url': fc.constantFrom('/a/b/echo', '/../../etc'),
    'x-rewrite-url': fc.constantFrom('/a/b', '//evil.example/'),
    forwarded: fc.constantFrom('host=evil.example;proto=https', 'for=127.0.0.1'),
    'x-http-method-override': fc.constantFrom('DELETE', 'CONNECT', 'TRACE'),
    'x-http-method': fc.constantFrom('DELETE', 'PUT'),
    'x-method-override': fc.constantFrom('DELETE', 'PATCH'),
    authorization: fc.constantFrom('Bearer not-a-token', 'Basic YTpi'),
    // Any Latin-1 text but control characters: what a header value may carry, passed on unchanged.
    'x-fuzz': fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 40 }).map((v) => v.trim()),
    'content-disposition': fc.constantFrom('attachment; filename="r\u00e9sum\u00e9.txt"', "attachment; filename*=UTF-8''%E6%97%A5.txt"),
    'x-forwarded-for': fc.constantFrom('10.0.0.1', '127.0.0.1, evil.example', ''),
  },
  { requiredKeys: [] },
);

/** The seven forwarded methods, and methods Node's parser knows but the proxy must never forward. */
const FORWARDED = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const method = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('GET', 'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'QUERY', 'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE', 'REPORT', 'MERGE', 'NOTIFY', 'SUBSCRIBE', 'LINK', 'BIND', 'TRACK') },
);
const OVERRIDES = ['x-http-method-override', 'x-http-method', 'x-method-override'];

t.test(`fuzzed paths, methods and headers (${RUNS} runs): no cross-route request, no wrong token, no escape, no 5xx, no method but the seven forwarded, header values unchanged`, async (t) => {
  const ups = { a: await upstream(t, 'a'), b: await upstream(t, 'b'), c: await upstream(t, 'c') };
  const port = await freePort();
  const gw = await proxy(t, {
    listen: { host: '127.0.0.1', port: 0 },
    clients: Object.values(ups).map((u) => ({ name: u.name, clientId: u.clientId, clientSecret: `secret-${u.name}-0123456789abcdef`, tokenUrl: u.emu.tokenUrl })),
    routes: [
      { prefix: '/a', upstream: ups.a.emu.url + ups.a.basePath, client: 'a' },
      { prefix: '/a/b', upstream: ups.b.emu.url + ups.b.basePath, client: 'b' },
      { port, upstream: ups.c.emu.url + ups.c.basePath, client: 'c' },
    ],
  });
  const listeners = { main: gw.url, port: gw.gateway.portUrls.get(`port:${port}`) ?? '' };
  const http = client(t);
  const tally = { forwarded: 0, refused: 0, methodsRefused: 0 };

  await fc.assert(
    fc.asyncProperty(fc.constantFrom('main' as const, 'port' as const), path, method, headers, async (listener, target, verb, sent) => {
      const before = Object.values(ups).map((u) => u.emu.apiRequests.length);
      const res = await call(http, listeners[listener] + target, { method: verb, headers: sent });
      if (res.status >= 500) throw new Error(`${res.status} for ${verb} ${target}: ${res.text.slice(0, 200)}`);

      const reached = Object.values(ups).filter((u, i) => u.emu.apiRequests.length > (before[i] ?? 0));
      if (!FORWARDED.has(verb)) {
        // 405 from the proxy; 400 when Node's parser does not know the method at all (TRACK).
        if (reached.length > 0) throw new Error(`${verb} ${target} was forwarded to ${reached.map((u) => u.name).join(',')}`);
        if (res.status !== 405 && res.status !== 400) throw new Error(`${verb} ${target} got ${res.status}, not 405`);
        tally.methodsRefused += 1;
        return;
      }
      const expected = expectedUpstream(listener, target, ups);
      if (reached.length === 0) {
        tally.refused += 1;
        return;
      }
      tally.forwarded += 1;
      if (expected === undefined || reached.length > 1 || reached[0] !== expected) {
        throw new Error(`${verb} ${listener} ${target} reached ${reached.map((u) => u.name).join(',')}, expected ${expected?.name ?? 'none'}`);
      }
      const record = expected.emu.apiRequests.at(-1);
      if (record?.tokenClientId !== expected.clientId) {
        throw new Error(`${target} reached ${expected.name} with a token of ${record?.tokenClientId ?? 'nobody'}`);
      }
      // Resolved the way a URL-normalising upstream would, the path is still under the route's base path.
      const resolved = new URL(record.rawUrl, 'http://upstream.invalid').pathname;
      if (resolved !== expected.basePath && !resolved.startsWith(`${expected.basePath}/`)) {
        throw new Error(`${target} left ${expected.basePath}: the upstream saw ${record.rawUrl}`);
      }
      if (record.headers.host !== new URL(expected.emu.url).host) throw new Error(`${target} went out with Host ${record.headers.host}`);
      const overridden = OVERRIDES.filter((name) => record.headers[name] !== undefined);
      if (overridden.length > 0) throw new Error(`${verb} ${target} reached the upstream with ${overridden.join(', ')}`);
      if (record.method !== verb) throw new Error(`${verb} ${target} reached the upstream as ${record.method}`);
      for (const name of ['x-fuzz', 'content-disposition'] as const) {
        const value = sent[name];
        if (value !== undefined && value !== '' && record.headers[name] !== value) {
          throw new Error(`${name} ${JSON.stringify(value)} reached the upstream as ${JSON.stringify(record.headers[name])}`);
        }
      }
    }),
    { numRuns: RUNS },
  );

  t.ok(tally.forwarded > RUNS / 10, `many requests were forwarded (${tally.forwarded})`);
  t.ok(tally.refused > RUNS / 10, `many were refused (${tally.refused})`);
  t.ok(tally.methodsRefused > RUNS / 20, `many were refused for their method (${tally.methodsRefused})`);
  t.equal((await call(http, `${gw.url}/-/healthz`)).status, 200, 'the proxy is still healthy');
  for (const u of Object.values(ups)) {
    t.ok(
      u.emu.tokenRequests.every((r) => r.clientId === u.clientId),
      `${u.name}'s token endpoint was only ever asked by its own client`,
    );
  }
});
