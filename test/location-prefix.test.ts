import t from 'tap';
import { call, client, configFor, emulator, freePort, proxy, type Tap } from './helpers/index.ts';

/** What a client does with an async write's answer (RFC 3986, as Python's urljoin, Postman and browsers do): resolve Location against the URL it called. */
async function followAsyncWrite(t: Tap, http: ReturnType<typeof client>, writeUrl: string): Promise<{ location: string; poll: string; status: number; body: Record<string, unknown> }> {
  const accepted = await call(http, writeUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ serialNumber: 'SN1' }) });
  t.equal(accepted.status, 202, 'the async write is accepted');
  const location = accepted.headers.location as string;
  const poll = new URL(location, writeUrl).href;
  // GreenLake's async operations move on as they are polled: poll as a client would, a bounded number of times.
  let answer = await call(http, poll);
  for (let polls = 1; polls < 5 && answer.status === 200 && ['INITIALIZED', 'RUNNING'].includes(String(answer.json().status)); polls++) {
    answer = await call(http, poll);
  }
  return { location, poll, status: answer.status, body: answer.status === 200 ? answer.json() : {} };
}

t.test('root-relative Location lost the route prefix: a client resolving it on a prefix route reaches the async operation', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  const followed = await followAsyncWrite(t, http, `${gw.url}/glp/global/devices/v1/devices`);
  t.match(followed.location, /^\/glp\/global\/devices\/v1\/async-operations\/[\w-]+$/, 'Location carries the route prefix');
  t.ok(followed.poll.startsWith(`${gw.url}/glp/global/`), 'the resolved URL stays on the route');
  t.equal(followed.status, 200, 'polling it through the proxy answers 200');
  t.match(followed.body.type, /async-operations$/);
  t.equal(followed.body.status, 'SUCCEEDED');
});

t.test('root-relative Location on an upstream base path: /base/x becomes <prefix>/x', async (t) => {
  const emu = await emulator(t);
  // The upstream's base path /devices is what the route's prefix /dev stands for.
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/dev', upstream: `${emu.url}/devices` }] }));
  const http = client(t);
  const followed = await followAsyncWrite(t, http, `${gw.url}/dev/v1/devices`);
  t.match(followed.location, /^\/dev\/v1\/async-operations\/[\w-]+$/, 'the base path is replaced by the prefix, not kept after it');
  t.equal(followed.status, 200, 'polling it through the proxy answers 200');
  t.equal(followed.body.status, 'SUCCEEDED');
});

t.test('Location rewriting respects path boundaries: base path /redirect does not cover /redirectx', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/r', upstream: `${emu.url}/redirect` }] }));
  const http = client(t);
  const locationFor = async (to: string, absolute = false): Promise<unknown> =>
    (await call(http, `${gw.url}/r?to=${encodeURIComponent(to)}${absolute ? '&absolute=1' : ''}`)).headers.location;

  t.equal(await locationFor('/redirect/a?q=1'), '/r/a?q=1', 'under the base path: mapped to the prefix');
  t.equal(await locationFor('/redirect'), '/r', 'the base path itself: the prefix');
  t.equal(await locationFor('/redirect?q=1'), '/r?q=1');
  t.equal(await locationFor('/redirectx/a'), '/redirectx/a', 'a sibling path is outside the base path: unchanged');
  t.equal(await locationFor('/elsewhere/a'), '/elsewhere/a', 'outside the base path: unchanged, so it stays on the proxy');
  t.equal(await locationFor('/redirectx/a', true), `${emu.url}/redirectx/a`, 'absolute: the same boundary holds');
  t.equal(await locationFor('/redirect/a', true), `${gw.url}/r/a`, 'absolute under the base path: back at the proxy');
  t.equal(await locationFor('//example.com/redirect/a'), '//example.com/redirect/a', 'network-path reference: another host, unchanged');
  t.equal(await locationFor('a/b'), 'a/b', 'path-relative: resolves correctly as it is');
  t.equal(await locationFor('../a'), '../a');
});

t.test('a network-path Location (//host/x) from an upstream without a base path names another host: passed unchanged, never mapped under the prefix', async (t) => {
  const emu = await emulator(t);
  // No base path: every root-relative Location is under it, so only the // check keeps //host apart.
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/r', upstream: emu.url }] }));
  const http = client(t);
  const locationFor = async (to: string): Promise<unknown> => (await call(http, `${gw.url}/r/redirect?to=${encodeURIComponent(to)}`)).headers.location;
  t.equal(await locationFor('//example.com/a?q=1'), '//example.com/a?q=1', 'another host: unchanged');
  t.equal(await locationFor('/a?q=1'), '/r/a?q=1', 'a root-relative one on the same route is mapped');
});

t.test('root-relative Location on a port route: unchanged without a base path, and it resolves', async (t) => {
  const emu = await emulator(t);
  const port = await freePort();
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/glp/global', upstream: emu.url }, { port, upstream: emu.url }] }));
  const http = client(t);
  const portUrl = gw.gateway.portUrls.get('port:' + port) as string;
  const followed = await followAsyncWrite(t, http, `${portUrl}/devices/v1/devices`);
  t.match(followed.location, /^\/devices\/v1\/async-operations\/[\w-]+$/, 'served at /: the Location is already right');
  t.equal(followed.status, 200);
});

t.test('root-relative Location on a port route with an upstream base path: /base/x becomes /x', async (t) => {
  const emu = await emulator(t);
  const port = await freePort();
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/glp/global', upstream: emu.url }, { port, upstream: `${emu.url}/devices` }] }));
  const http = client(t);
  const portUrl = gw.gateway.portUrls.get(`port:${port}`) as string;
  const followed = await followAsyncWrite(t, http, `${portUrl}/v1/devices`);
  t.match(followed.location, /^\/v1\/async-operations\/[\w-]+$/, 'the base path is taken off: the port serves it at /');
  t.equal(followed.status, 200);
});
