import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import { Registry } from 'prom-client';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { startServe, writeServeConfig } from './helpers/cli.ts';
import { call, client, configFor, emulator, eventually, proxy } from './helpers/index.ts';


/** Whether a promise has settled by now. Checked after the event loop turned once (POST /-/quit asks with setImmediate). */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  await new Promise((resolve) => setImmediate(resolve));
  const pending = Symbol('pending');
  return (await Promise.race([promise.then(() => true), Promise.resolve(pending)])) !== pending;
}

t.test('the admin listener serves probes and metrics only, and never forwards', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { admin: { host: '127.0.0.1', port: 0 } }));
  const http = client(t);
  const admin = gw.gateway.adminUrl;
  t.ok(admin, 'gateway.adminUrl is set when admin is configured');
  if (admin === undefined) return;
  t.match(admin, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(admin, gw.url, 'a listener of its own');

  t.same((await call(http, `${admin}/-/healthz`)).json(), { status: 'ok' });
  const ready = await call(http, `${admin}/-/readyz`);
  t.equal(ready.status, 200);
  t.same(ready.json(), { status: 'ready' });
  const metrics = await call(http, `${admin}/-/metrics`);
  t.equal(metrics.status, 200);
  t.equal(metrics.headers['content-type'], Registry.PROMETHEUS_CONTENT_TYPE);
  t.match(metrics.text, /^# HELP greenlake_proxy_requests_total /m);

  for (const [method, path] of [
    ['GET', '/-/status'],
    ['GET', '/-/'],
    ['POST', '/-/quit'],
    ['GET', '/dscc/us1/api/v1/volumes'],
    ['POST', '/glp/global/devices/v1/devices'],
    ['GET', '/'],
  ] as const) {
    t.equal((await call(http, `${admin}${path}`, { method })).status, 404, `${method} ${path}: 404 on the admin listener`);
  }
  t.equal(emu.apiRequests.length, 0, 'the emulator saw no API request');
  t.equal(emu.tokenRequests.length, 0, 'and no token request');
  t.notOk(await hasSettled(gw.gateway.quitRequested), 'POST /-/quit on the admin listener asked for nothing');

  // Same state as the main listener: a request there shows in the admin listener's metrics.
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200);
  t.match((await call(http, `${admin}/-/metrics`)).text, 'greenlake_proxy_requests_total{route="/dscc/us1",method_class="read",status="200"} 1');
  t.equal((await call(http, `${gw.url}/-/status`)).status, 200, 'the main listener still has /-/status');

  // Readiness turns 503 on the admin listener too while the gateway drains (what the kubelet probes).
  emu.setApiFault({ kind: 'delay', ms: 600 });
  const inflight = call(client(t), `${gw.url}/dscc/us1/api/v1/volumes`);
  await eventually('the slow request reached the upstream', () => emu.apiRequests.length >= 2);
  const closing = gw.gateway.close(5000);
  const during = await call(http, `${admin}/-/readyz`).catch(() => ({ status: 0 }));
  t.not(during.status, 200, 'not ready while draining (503, or the connection is refused)');
  t.equal((await inflight).status, 200);
  await closing;
});

t.test('POST /-/quit from 127.0.0.1 answers 202 and resolves quitRequested', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  t.notOk(await hasSettled(gw.gateway.quitRequested), 'nobody asked yet');
  t.equal((await call(http, `${gw.url}/-/quit`)).status, 404, 'GET /-/quit is not a way to quit');
  const fromPage = await call(http, `${gw.url}/-/quit`, { method: 'POST', headers: { origin: 'https://attacker.example' } });
  t.equal(fromPage.status, 403, 'a web page cannot make the browser end the proxy');
  t.equal(fromPage.json().errorCode, 'GREENLAKE_PROXY_ORIGIN_NOT_ALLOWED');
  t.notOk(await hasSettled(gw.gateway.quitRequested), 'refused requests asked for nothing');

  const quit = await call(http, `${gw.url}/-/quit`, { method: 'POST' });
  t.equal(quit.status, 202);
  t.same(quit.json(), { status: 'shutting down' });
  await gw.gateway.quitRequested;
  t.pass('quitRequested resolved');
});

/** A non-loopback IPv4 address of this machine (e.g. eth0's), to connect from something that is not 127.x. */
function externalIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

const external = externalIPv4();
t.test(
  'POST /-/quit from a non-loopback address is refused with 403',
  { skip: external === undefined ? 'this machine has no non-loopback IPv4 address to connect from' : false },
  async (t) => {
    const emu = await emulator(t);
    // Listening on the interface address, a connection to it comes from it: not a loopback peer.
    const gw = await proxy(t, configFor(emu, { listen: { host: external, port: 0 }, inbound: { allowUnauthenticated: true } }));
    t.match(gw.url, new RegExp(`^http://${external!.replaceAll('.', '\\.')}:\\d+$`));
    const http = client(t);
    const refused = await call(http, `${gw.url}/-/quit`, { method: 'POST' });
    t.equal(refused.status, 403);
    t.equal(refused.json().errorCode, 'GREENLAKE_PROXY_FORBIDDEN');
    t.match(refused.json().message, /loopback/);
    t.notOk(await hasSettled(gw.gateway.quitRequested), 'the proxy keeps running');
    t.equal((await call(http, `${gw.url}/-/healthz`)).status, 200, 'and still answers');
  },
);

t.test('serve: POST /-/quit makes the process drain and exit 0', async (t) => {
  const emu = await emulator(t);
  const file = await writeServeConfig(t.testdir({}), emu);
  const proc = await startServe(t, file, { LOG_LEVEL: 'info' });
  const url = proc.url;
  const exited = proc.exited;
  const http = client(t);
  t.equal((await call(http, `${url}/dscc/us1/api/v1/volumes`)).status, 200);

  // A request still upstream when the quit comes is finished before the exit.
  emu.setApiFault({ kind: 'delay', ms: 500 });
  const slow = call(client(t), `${url}/dscc/us1/api/v1/volumes`);
  await eventually('the slow request reached the upstream', () => emu.apiRequests.length >= 2);
  const quit = await call(http, `${url}/-/quit`, { method: 'POST' });
  t.equal(quit.status, 202);
  t.equal((await slow).status, 200, 'the in-flight request finished');
  const [code, signal] = await exited;
  t.equal(code, 0, 'exit status 0');
  t.equal(signal, null);
  t.match(proc.logs(), /"reason":"POST \/-\/quit"/, 'the log says why it stopped');
  t.match(proc.logs(), /"msg":"stopped"/);
});
