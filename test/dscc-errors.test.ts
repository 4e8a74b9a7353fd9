import t from 'tap';
import { hashKey } from '../src/inbound/index.ts';
import { speaksDscc } from '../src/proxy/dscc.ts';
import { mountRoute } from '../src/proxy/index.ts';
import type { TokenKeeper } from '../src/tokens/index.ts';
import { call, client, configFor, emulator, freePort, proxy, type Tap } from './helpers/index.ts';

/** A DSCC client reads error, errorCode and traceId; a GreenLake client reads httpStatusCode, errorCode, message, debugId. */
function assertBothShapes(t: Tap, answer: { status: number; headers: Record<string, unknown>; json(): Record<string, unknown> }, code: string): void {
  const body = answer.json();
  t.equal(body.errorCode, code, 'errorCode: the stable code, read by both');
  t.equal(body.httpStatusCode, answer.status, 'GreenLake fields stay');
  t.type(body.message, 'string');
  t.equal(body.debugId, answer.headers['x-request-id']);
  t.equal(body.error, body.message, 'DSCC error: the message');
  t.equal(body.traceId, answer.headers['x-request-id'], 'DSCC traceId: the request id');
}

t.test('proxy errors on a DSCC v1 route lacked the DSCC fields: refused tenant header on a catalog dscc route', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  const refused = await call(http, `${gw.url}/dscc/us1/api/v1/volumes`, { headers: { 'x-greenlake-workspace': 'abc' } });
  t.equal(refused.status, 400);
  assertBothShapes(t, refused, 'GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED');

  const glp = await call(http, `${gw.url}/glp/global/devices/v1/devices`, { headers: { 'x-greenlake-workspace': 'abc' } });
  t.equal(glp.status, 400);
  t.notOk('error' in glp.json() || 'traceId' in glp.json(), 'a platform route keeps the GreenLake shape alone');
});

t.test('proxy errors on a DSCC v1 route: an unreachable upstream (written after the reply is taken over) carries the DSCC fields', async (t) => {
  const emu = await emulator(t);
  const dead = await freePort();
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/dscc/us1', upstream: `http://127.0.0.1:${dead}` }] }));
  const answer = await call(client(t), `${gw.url}/dscc/us1/api/v1/storage-systems`);
  t.equal(answer.status, 502);
  assertBothShapes(t, answer, 'GREENLAKE_PROXY_UPSTREAM_UNREACHABLE');
});

t.test('proxy errors on a DSCC v1 route: refused authentication (before any route is chosen) carries the DSCC fields', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { apiKeys: [{ name: 'k', keyHash: hashKey('glproxy_test-key-1'), clients: ['team'] }] } }));
  const http = client(t);
  const answer = await call(http, `${gw.url}/dscc/us1/api/v1/volumes`);
  t.equal(answer.status, 401);
  assertBothShapes(t, answer, 'GREENLAKE_PROXY_UNAUTHENTICATED');
  const com = await call(http, `${gw.url}/com/us-west/compute-ops-mgmt/v1/servers`);
  t.equal(com.status, 401);
  t.notOk('traceId' in com.json(), 'a COM route keeps the GreenLake shape alone');
});

t.test('proxy errors on a DSCC v1 route: a route outside the catalog is DSCC by its /api/v1 path', async (t) => {
  const emu = await emulator(t);
  const port = await freePort();
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/glp/global', upstream: emu.url }, { port, upstream: emu.url }] }));
  const portUrl = gw.gateway.portUrls.get(`port:${port}`) as string;
  const http = client(t);
  const v1 = await call(http, `${portUrl}/api/v1/volumes`, { headers: { 'x-greenlake-workspace': 'abc' } });
  t.equal(v1.status, 400);
  assertBothShapes(t, v1, 'GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED');
  const other = await call(http, `${portUrl}/compute-ops-mgmt/v1/servers`, { headers: { 'x-greenlake-workspace': 'abc' } });
  t.notOk('traceId' in other.json(), 'another path on the same port route: GreenLake shape alone');
});

t.test('a custom prefix on a DSCC zone host (*.data.cloud.hpe.com) speaks DSCC on every path', async (t) => {
  const route = (upstream: string) =>
    mountRoute({ prefix: '/storage', port: undefined, upstream, client: 'team', region: '/storage', tenant: undefined, tenantHeader: false, readOnly: false, allow: undefined }, '/storage', {} as TokenKeeper);
  t.ok(speaksDscc(route('https://uk1.data.cloud.hpe.com'), '/rest/anything'));
  t.notOk(speaksDscc(route('https://data.cloud.hpe.com.example'), '/rest/anything'), 'only the suffix at a label boundary');
  t.notOk(speaksDscc(route('https://global.api.greenlake.hpe.com'), '/api/v1beta1/x'), '/api/v1 at a segment boundary only');
});
