import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { readRateLimit } from '../src/budget/index.ts';
import { ConfigError, parseConfig } from '../src/config/index.ts';
import { DEMO_CLIENT, type Emulator } from '../src/emulator/index.ts';
import { call, client, configFor, DEMO_SECRET, emulator, eventually, proxy, type Answer, type RunningProxy, type Tap } from './helpers/index.ts';

// Each test has its own emulator and proxy; most wait for a budget to reopen (1-2 s), so they run side by side.
t.jobs = 4;

const SERVERS = '/com/us-west/compute-ops-mgmt/v1/servers';
const OTHER_CLIENT = { clientId: 'other-client', clientSecret: 'other-secret-0c1d2e3f4a5b6c7d8e9f', sub: 'other@example.com' };

interface BudgetView {
  client: string;
  tenant: string | null;
  method: string;
  upstream: string;
  path: string;
  limit: number | null;
  remaining: number | null;
  blockedUntil: string | null;
  waiting: number;
  held: number;
  refused: number;
  retried: number;
}

interface StatusView {
  rateLimits: { enabled: boolean; maxWaitMs: number | null; clients: Array<{ client: string; apis: number; closed: number }>; apis: BudgetView[] };
}

/** The budget of `name`'s API at `path` (generalised, as /-/status shows it). */
async function budgetOf(http: ReturnType<typeof client>, gw: RunningProxy, name: string, path: string): Promise<BudgetView | undefined> {
  const status = (await call(http, `${gw.url}/-/status`)).json<StatusView>();
  return status.rateLimits.apis.find((c) => c.client === name && c.path === path);
}

/** A counter for one client, summed over its APIs (greenlake_proxy_rate_limit_held_total{client="team",api="..."}); 0 when absent. */
async function sample(http: ReturnType<typeof client>, gw: RunningProxy, name: string, clientName: string): Promise<number> {
  const text = (await call(http, `${gw.url}/-/metrics`)).text;
  const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && l.includes(`client="${clientName}"`));
  return lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

function assertProxyRefusal(t: Tap, res: Answer, clientName: string): number {
  t.equal(res.status, 429, 'the proxy answers 429');
  const body = res.json<{ httpStatusCode: number; errorCode: string; message: string; debugId: string; errorDetails: Array<Record<string, unknown>> }>();
  t.equal(body.errorCode, 'GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED');
  t.equal(body.httpStatusCode, 429);
  t.equal(body.debugId, res.headers['x-request-id'], 'debugId is the request id');
  t.match(body.message, `"${clientName}"`, 'the message names the client');
  t.match(body.message, /until \d{4}-\d\d-\d\dT/, 'and when its budget resets');
  const retryAfter = String(res.headers['retry-after']);
  t.match(retryAfter, /^\d+$/, 'Retry-After is whole seconds');
  t.ok(Number(retryAfter) >= 1, 'and at least 1');
  t.equal(body.errorDetails[0]?.['retryAfterSeconds'], Number(retryAfter));
  return Number(retryAfter);
}

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

interface Reply {
  readonly status: number;
  readonly headers?: OutgoingHttpHeaders;
  readonly body?: string;
}

/** A small upstream whose every answer the test decides; it records what arrived. */
async function customUpstream(t: Tap, answer: (seen: Seen, index: number) => Reply | Promise<Reply>): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = { method: req.method ?? '', url: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') };
    seen.push(request);
    const reply = await answer(request, seen.length - 1);
    const body = reply.body ?? JSON.stringify({ ok: true });
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** Config with the emulator's token endpoint, one `/custom` route to `upstream`, and `rateLimits`. */
function customConfig(emu: Emulator, upstream: string, rateLimits: Record<string, unknown> = {}): Record<string, unknown> {
  return configFor(emu, {
    routes: [{ prefix: '/custom', upstream }],
    rateLimits,
  });
}

t.test('after the budget is spent, further requests are held and then succeed after the reset', async (t) => {
  const emu = await emulator(t);
  emu.setRateLimit({ limit: 3, windowSeconds: 2 });
  const gw = await proxy(t, configFor(emu));
  const http = client(t);

  const spent: Answer[] = [];
  for (let i = 0; i < 3; i++) spent.push(await call(http, gw.url + SERVERS));
  t.same(spent.map((r) => r.status), [200, 200, 200]);
  t.equal(spent[2]?.headers['ratelimit-remaining'], '0', "GreenLake's headers pass through: the budget is spent");

  // The same API through another route of the same client (same upstream): the same budget.
  const later = await Promise.all([call(http, gw.url + SERVERS), call(http, `${gw.url}/dscc/us1/compute-ops-mgmt/v1/servers?limit=5`)]);
  t.same(later.map((r) => r.status), [200, 200], 'the held requests succeed');
  t.equal(emu.apiRequests.length, 5);
  t.same(emu.apiRequests.map((r) => r.status), [200, 200, 200, 200, 200], 'the emulator never had to answer 429');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_held_total', 'team'), 2, 'both were counted as held');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_refused_total', 'team'), 0);
  const budget = await budgetOf(http, gw, 'team', '/compute-ops-mgmt/v1/servers');
  t.match(budget, { client: 'team', tenant: null, method: 'GET', upstream: emu.url, limit: 3, held: 2, refused: 0, waiting: 0 }, '/-/status shows the budget');
  t.ok(gw.logs.some((l) => l.includes('"heldForRateLimitMs"')), 'the request log says how long a request was held');
});

t.test('beyond rateLimits.maxWaitMs the proxy answers 429 itself, with Retry-After, and sends nothing upstream', async (t) => {
  const emu = await emulator(t);
  emu.setRateLimit({ limit: 2, windowSeconds: 30 });
  const gw = await proxy(t, configFor(emu, { rateLimits: { maxWaitMs: 200 } }));
  const http = client(t);

  t.equal((await call(http, gw.url + SERVERS)).status, 200);
  t.equal((await call(http, gw.url + SERVERS)).status, 200);
  const refused = await call(http, gw.url + SERVERS);
  const seconds = assertProxyRefusal(t, refused, 'team');
  t.ok(seconds <= 30, 'Retry-After is when the window resets, not more');
  assertProxyRefusal(t, await call(http, `${gw.url}${SERVERS}?offset=2`), 'team');
  t.equal(emu.apiRequests.length, 2, 'the emulator saw no request once the budget was spent');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_refused_total', 'team'), 2);
  const budget = await budgetOf(http, gw, 'team', '/compute-ops-mgmt/v1/servers');
  t.equal(budget?.refused, 2);
  t.type(budget?.blockedUntil, 'string', '/-/status says until when the budget is closed');
});

t.test("an IAM endpoint's used-up budget holds no devices call: budgets are per API, a device ID shares its collection's item budget", async (t) => {
  const emu = await emulator(t);
  const spent = { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '30' };
  const plenty = { 'ratelimit-limit': '40', 'ratelimit-remaining': '39', 'ratelimit-reset': '60' };
  const up = await customUpstream(t, (seen) => {
    if (seen.url.startsWith('/identity/')) return { status: 429, headers: spent, body: '{"errorCode":"HPE_GL_ERROR_TOO_MANY_REQUESTS"}' };
    if (seen.url === '/devices/v1/devices/P07595-B21%2BMXQ1140XVX') return { status: 200, headers: { ...plenty, 'ratelimit-remaining': '0' } };
    return { status: 200, headers: plenty };
  });
  const gw = await proxy(t, customConfig(emu, up.url, { maxWaitMs: 200 }));
  const http = client(t);

  const iam = await call(http, `${gw.url}/custom/identity/v1/users`);
  t.equal(iam.status, 429, 'the IAM endpoint is used up (its reset is beyond maxWaitMs: the upstream 429 passes through)');
  const devices = await Promise.all(['/devices/v1/devices', '/devices/v1/devices/A1B2C3D4E5', '/devices/v1/devices/Z9Y8X7W6V5'].map((p) => call(http, `${gw.url}/custom${p}`)));
  t.same(devices.map((a) => a.status), [200, 200, 200], 'devices calls go straight on: not held, not refused');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_held_total', 'team'), 0, 'none was held');
  assertProxyRefusal(t, await call(http, `${gw.url}/custom/identity/v1/users?filter=x`), 'team');
  t.equal(up.seen.filter((s) => s.url.startsWith('/identity/')).length, 1, 'the IAM endpoint itself is refused by the proxy (its query does not matter)');

  // One device's answer spends the budget of every device by ID; the collection and POST keep their own.
  t.equal((await call(http, `${gw.url}/custom/devices/v1/devices/P07595-B21%2BMXQ1140XVX`)).status, 200);
  const other = await call(http, `${gw.url}/custom/devices/v1/devices/7CE751P312`);
  assertProxyRefusal(t, other, 'team');
  t.match(other.json().message, 'for GET /devices/v1/devices/{id} is used up', 'the refusal names the API');
  t.equal((await call(http, `${gw.url}/custom/devices/v1/devices?limit=5`)).status, 200, 'the collection is another API');
  t.equal((await call(http, `${gw.url}/custom/devices/v1/devices`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).status, 200, 'so is POST');
  t.notOk(up.seen.some((s) => s.url === '/devices/v1/devices/7CE751P312'), 'the refused device call never went upstream');

  const status = (await call(http, `${gw.url}/-/status`)).json<StatusView>().rateLimits;
  t.same(
    status.apis.map((a) => `${a.method} ${a.path} ${a.blockedUntil === null ? 'open' : 'closed'}`).sort(),
    ['GET /devices/v1/devices open', 'GET /devices/v1/devices/{id} closed', 'GET /identity/v1/users closed', 'POST /devices/v1/devices open'],
    '/-/status lists one budget per API, the generalised path only',
  );
  t.match(status.clients, [{ client: 'team', apis: 4, closed: 2 }], 'and adds them up per client');
  const metrics = (await call(http, `${gw.url}/-/metrics`)).text;
  t.ok(metrics.includes('greenlake_proxy_rate_limit_refused_total{client="team",api="GET /identity/v1/users"} 1'), 'refusals are counted per client and API');
});

t.test("another client's budget for the same API is its own", async (t) => {
  const emu = await emulator(t, { clients: [DEMO_CLIENT, OTHER_CLIENT] });
  emu.setRateLimit({ limit: 2, windowSeconds: 30 });
  const gw = await proxy(t, {
    ...configFor(emu),
    clients: [
      { name: 'team', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_SECRET, tokenUrl: emu.tokenUrl },
      { name: 'ops', clientId: OTHER_CLIENT.clientId, clientSecret: OTHER_CLIENT.clientSecret, tokenUrl: emu.tokenUrl },
    ],
    routes: [
      { prefix: '/com/us-west', upstream: emu.url, client: 'team' },
      { prefix: '/glp/global', upstream: emu.url, client: 'ops' },
    ],
    rateLimits: { maxWaitMs: 200 },
  });
  const http = client(t);
  const OPS_SERVERS = '/glp/global/compute-ops-mgmt/v1/servers';

  t.equal((await call(http, gw.url + SERVERS)).status, 200);
  t.equal((await call(http, `${gw.url}${SERVERS}?limit=1`)).status, 200);
  assertProxyRefusal(t, await call(http, gw.url + SERVERS), 'team');
  t.equal(emu.apiRequests.length, 2);

  t.equal((await call(http, gw.url + OPS_SERVERS)).status, 200, 'the other client is unaffected');
  t.equal((await call(http, gw.url + OPS_SERVERS)).status, 200);
  t.same(emu.apiRequests.slice(2).map((r) => [r.tokenClientId, r.status]), [[OTHER_CLIENT.clientId, 200], [OTHER_CLIENT.clientId, 200]]);
  assertProxyRefusal(t, await call(http, gw.url + OPS_SERVERS), 'ops');
  t.equal(emu.apiRequests.length, 4);
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_refused_total', 'team'), 1);
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_refused_total', 'ops'), 1);
});

t.test('an idempotent request that gets a 429 with a short Retry-After is retried once and succeeds', async (t) => {
  const emu = await emulator(t);
  const firstOfPath = new Set<string>();
  const up = await customUpstream(t, (seen) => {
    if (!firstOfPath.has(seen.url)) {
      firstOfPath.add(seen.url);
      return { status: 429, headers: { 'retry-after': '1' }, body: '{"errorCode":"HPE_GL_ERROR_TOO_MANY_REQUESTS"}' };
    }
    return { status: 200, body: JSON.stringify({ method: seen.method, body: seen.body }) };
  });
  const gw = await proxy(t, customConfig(emu, up.url));
  const http = client(t);

  const [get, put] = await Promise.all([
    call(http, `${gw.url}/custom/items?x=1`),
    call(http, `${gw.url}/custom/items/7`, { method: 'PUT', body: '{"name":"seven"}', headers: { 'content-type': 'application/json' } }),
  ]);
  t.equal(get.status, 200, 'the GET succeeds');
  t.equal(put.status, 200, 'the PUT succeeds');
  t.same(put.json(), { method: 'PUT', body: '{"name":"seven"}' }, 'the PUT body was sent again, the same');
  t.equal(up.seen.filter((s) => s.url === '/items?x=1').length, 2, 'the GET went upstream twice: once more, not more');
  t.same(up.seen.filter((s) => s.url === '/items/7').map((s) => s.body), ['{"name":"seven"}', '{"name":"seven"}']);
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_retried_total', 'team'), 2);
  t.equal(gw.logs.filter((l) => l.includes('"retriedAfter429":true')).length, 2, 'the request log says so');
});

t.test('a retry whose budget closes for longer meanwhile is answered 429 by the proxy, not sent', async (t) => {
  const emu = await emulator(t);
  const release = Promise.withResolvers<void>();
  // Two items: one API, one budget.
  const up = await customUpstream(t, async (seen) => {
    if (seen.url === '/items/1') return { status: 429, headers: { 'retry-after': '1' } };
    await release.promise;
    return { status: 200, headers: { 'ratelimit-limit': '10', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' } };
  });
  const gw = await proxy(t, customConfig(emu, up.url));
  const http = client(t);

  const slow = call(http, `${gw.url}/custom/items/2`);
  await eventually('the upstream saw the first request', () => up.seen.length === 1);
  const retried = call(http, `${gw.url}/custom/items/1`);
  await eventually('one request waits for the budget', async () => (await budgetOf(http, gw, 'team', '/items/{id}'))?.waiting === 1);
  release.resolve();
  t.equal((await slow).status, 200, 'an answer sent earlier says: nothing left for 30 s');
  const seconds = assertProxyRefusal(t, await retried, 'team');
  t.ok(seconds > 1, 'Retry-After is the new reset');
  t.equal(up.seen.filter((s) => s.url === '/items/1').length, 1, 'the retry was never sent');
  t.match(await budgetOf(http, gw, 'team', '/items/{id}'), { held: 1, refused: 1, retried: 1 });
});

t.test('a POST is not retried: the upstream 429 passes through unchanged', async (t) => {
  const emu = await emulator(t);
  const up = await customUpstream(t, () => ({
    status: 429,
    headers: { 'retry-after': '1', 'x-upstream-mark': 'kept' },
    body: '{"errorCode":"HPE_GL_ERROR_TOO_MANY_REQUESTS","message":"slow down"}',
  }));
  const gw = await proxy(t, customConfig(emu, up.url));
  const http = client(t);

  const res = await call(http, `${gw.url}/custom/jobs`, { method: 'POST', body: '{"run":true}', headers: { 'content-type': 'application/json' } });
  t.equal(res.status, 429);
  t.equal(res.text, '{"errorCode":"HPE_GL_ERROR_TOO_MANY_REQUESTS","message":"slow down"}', "the upstream's body");
  t.equal(res.headers['retry-after'], '1', "the upstream's Retry-After");
  t.equal(res.headers['x-upstream-mark'], 'kept', "and the upstream's other headers");
  t.equal(up.seen.length, 1, 'the POST went upstream once');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_retried_total', 'team'), 0);
});

t.test('a GET is retried at most once, and a 429 asking for longer than maxWaitMs passes through', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { rateLimits: { maxWaitMs: 3000 } }));
  const http = client(t);

  const again = await call(http, `${gw.url}/com/us-west/status/429?retryAfter=1`);
  t.equal(again.status, 429, 'still 429 after the one retry');
  t.equal(again.headers['x-emulator'], '1', "it is the upstream's answer");
  t.equal(again.json().message, 'Status 429 as requested');
  t.equal(emu.apiRequests.length, 2, 'exactly one retry: never a loop');

  await eventually('the budget reopens', async () => (await budgetOf(http, gw, 'team', '/status/{id}'))?.blockedUntil === null);
  const long = await call(http, `${gw.url}/com/us-west/status/429?retryAfter=30`);
  t.equal(long.status, 429);
  t.equal(long.headers['x-emulator'], '1', 'a Retry-After beyond maxWaitMs: the upstream 429 passes through');
  t.equal(long.headers['retry-after'], '30');
  t.equal(emu.apiRequests.length, 3, 'not retried');
  assertProxyRefusal(t, await call(http, `${gw.url}/com/us-west/status/429`), 'team');
  t.equal(emu.apiRequests.length, 3, 'and the next request for that API is refused by the proxy without calling upstream');
  t.equal((await call(http, gw.url + SERVERS)).status, 200, 'another API of the client goes on');
});

t.test('X-RateLimit-* with a reset in seconds or as an epoch timestamp, and Retry-After as an HTTP date', async (t) => {
  const emu = await emulator(t);
  let mode: 'seconds' | 'epoch' | 'date' = 'seconds';
  const up = await customUpstream(t, (seen, index) => {
    if (mode === 'seconds') {
      const remaining = index === 0 ? '0' : '9';
      return { status: 200, headers: { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': remaining, 'x-ratelimit-reset': '1' } };
    }
    if (mode === 'epoch') {
      const reset = String(Math.floor(Date.now() / 1000) + 60);
      return { status: 200, headers: { 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset } };
    }
    const first = up.seen.filter((s) => s.url === seen.url).length === 1;
    return first ? { status: 429, headers: { 'retry-after': new Date(Date.now() + 1500).toUTCString() } } : { status: 200 };
  });
  const http = client(t);

  const gw = await proxy(t, customConfig(emu, up.url, { maxWaitMs: 2500 }));
  t.equal((await call(http, `${gw.url}/custom/x/1`)).status, 200);
  const held = await call(http, `${gw.url}/custom/x/2`);
  t.equal(held.status, 200, 'X-RateLimit-Reset: 1 (seconds): the next request is held, then sent');
  t.equal(up.seen.length, 2);
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_held_total', 'team'), 1);
  t.match(await budgetOf(http, gw, 'team', '/x/{id}'), { limit: 10, remaining: 9 });

  mode = 'date';
  const dated = await call(http, `${gw.url}/custom/dated`);
  t.equal(dated.status, 200, 'a 429 with Retry-After as an HTTP date is retried once the date has come');
  t.equal(up.seen.filter((s) => s.url === '/dated').length, 2);

  mode = 'epoch';
  await eventually('the budget reopens', async () => (await budgetOf(http, gw, 'team', '/x/{id}'))?.blockedUntil === null);
  t.equal((await call(http, `${gw.url}/custom/x/3`)).status, 200);
  const seconds = assertProxyRefusal(t, await call(http, `${gw.url}/custom/x/4`), 'team');
  t.ok(seconds <= 61, 'X-RateLimit-Reset as epoch seconds: Retry-After is the time until then');
  t.equal(up.seen.length, 5, 'the refused request never went upstream');
});

t.test('a caller that goes away while held is never forwarded', async (t) => {
  const emu = await emulator(t);
  emu.setRateLimit({ limit: 1, windowSeconds: 2 });
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  t.equal((await call(http, gw.url + SERVERS)).status, 200);

  const { port } = new URL(gw.url);
  const gone = httpRequest({ host: '127.0.0.1', port, path: SERVERS, headers: { 'x-request-id': 'held-then-gone' } });
  gone.on('error', () => {});
  gone.end();
  await eventually('one request waits for the budget', async () => (await budgetOf(http, gw, 'team', '/compute-ops-mgmt/v1/servers'))?.waiting === 1);
  gone.destroy();
  await eventually('the abandoned request is logged as 499', () => gw.logs.some((l) => l.includes('"reqId":"held-then-gone"') && l.includes('"status":499')));
  t.equal((await budgetOf(http, gw, 'team', '/compute-ops-mgmt/v1/servers'))?.waiting, 0, 'the hold ended with the caller');

  const after = await call(http, gw.url + SERVERS, { headers: { 'x-request-id': 'after-the-reset' } });
  t.equal(after.status, 200, 'a request held after it goes once the budget reopens');
  t.same(
    emu.apiRequests.map((r) => r.headers['x-request-id']).filter((id) => id === 'held-then-gone' || id === 'after-the-reset'),
    ['after-the-reset'],
    'the abandoned request was never sent',
  );
  t.equal(emu.apiRequests.length, 2);
});

t.test('a burst over the budget from several callers: everyone gets an answer from GreenLake, 200', async (t) => {
  const emu = await emulator(t);
  emu.setRateLimit({ limit: 3, windowSeconds: 2 });
  const gw = await proxy(t, configFor(emu));
  const http = client(t);

  const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => call(http, `${gw.url}${SERVERS}?caller=${i}`)));
  t.same(answers.map((r) => r.status), [200, 200, 200, 200, 200, 200], 'over-budget GETs were held or retried, not failed');
  const statuses = emu.apiRequests.map((r) => r.status);
  t.equal(statuses.filter((s) => s === 200).length, 6);
  t.ok(statuses.filter((s) => s === 429).length <= 3, 'at most the first wave tripped over the limit');
  t.equal(statuses.length, 6 + statuses.filter((s) => s === 429).length, 'each 429 was retried exactly once');
});

t.test('rateLimits.enabled: false keeps no budget: upstream 429s pass through', async (t) => {
  const emu = await emulator(t);
  emu.setRateLimit({ limit: 1, windowSeconds: 30 });
  const gw = await proxy(t, configFor(emu, { rateLimits: { enabled: false } }));
  const http = client(t);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await call(http, gw.url + SERVERS)).status);
  t.same(statuses, [200, 429, 429]);
  t.equal(emu.apiRequests.length, 3, 'every request went upstream');
  t.match((await call(http, `${gw.url}/-/status`)).json<StatusView>().rateLimits, { enabled: false, clients: [], apis: [] });
});

t.test('configuration: defaults, and key-path errors', async (t) => {
  const base = { clients: [{ name: 'team', clientId: 'id', clientSecret: 'secret' }] };
  t.strictSame(parseConfig(base, {}, 'test').rateLimits, { enabled: true, maxWaitMs: 5000, retryIdempotent: true });
  t.strictSame(parseConfig({ ...base, rateLimits: { maxWaitMs: 0, retryIdempotent: false } }, {}, 'test').rateLimits, {
    enabled: true,
    maxWaitMs: 0,
    retryIdempotent: false,
  });
  const problems = (raw: unknown): readonly string[] => {
    try {
      parseConfig(raw, {}, 'test');
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    return [];
  };
  t.strictSame(problems({ ...base, rateLimits: { maxWaitMs: -1 } }), ['rateLimits.maxWaitMs: must be an integer from 0 to 600000']);
  t.strictSame(problems({ ...base, rateLimits: { maxWaitMs: 1.5 } }), ['rateLimits.maxWaitMs: must be an integer from 0 to 600000']);
  t.strictSame(problems({ ...base, rateLimits: { retryIdempotent: 'yes' } }), ['rateLimits.retryIdempotent: expected true or false, got a string']);
  t.strictSame(problems({ ...base, rateLimits: { maxWait: 100 } }), ['rateLimits.maxWait: unknown key']);
  t.strictSame(problems({ ...base, rateLimits: 5 }), ['rateLimits: expected a mapping of keys, got a number']);
});

t.test('rate-limit headers: each form GreenLake and others use', async (t) => {
  const now = Date.UTC(2030, 0, 1, 0, 0, 0);
  const read = (headers: Record<string, string | string[]>) => readRateLimit(headers, now);
  t.strictSame(read({ 'ratelimit-limit': '100', 'ratelimit-remaining': '0', 'ratelimit-reset': '42' }), {
    limit: 100,
    remaining: 0,
    resetAt: now + 42_000,
    retryAt: undefined,
  });
  t.equal(read({ 'x-ratelimit-reset': String(now / 1000 + 7) }).resetAt, now + 7000, 'epoch seconds');
  t.equal(read({ 'x-ratelimit-reset': String(now + 7000) }).resetAt, now + 7000, 'epoch milliseconds');
  t.equal(read({ 'x-ratelimit-reset': '1.5' }).resetAt, now + 1500, 'fractional seconds');
  t.equal(read({ 'ratelimit-limit': '10, 10;w=60' }).limit, 10, 'a draft-03 limit with its policy');
  t.equal(read({ 'x-ratelimit-remaining': ['3', '5'] }).remaining, 3, 'a repeated header: the first');
  t.equal(read({ 'ratelimit-remaining': '4', 'x-ratelimit-remaining': '9' }).remaining, 4, 'the IETF name wins');
  t.equal(read({ 'retry-after': '3' }).retryAt, now + 3000);
  t.equal(read({ 'retry-after': 'Tue, 01 Jan 2030 00:00:09 GMT' }).retryAt, now + 9000, 'an HTTP date');
  const hour = 3600_000;
  t.equal(read({ 'retry-after': '99999999999999999999' }).retryAt, now + hour, 'a huge Retry-After: at most an hour ahead');
  t.equal(read({ 'retry-after': '9'.repeat(400) }).retryAt, now + hour, 'even one that is Infinity as a number');
  t.equal(read({ 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' }).retryAt, now + hour, 'an HTTP date years ahead');
  t.equal(read({ 'ratelimit-reset': String(now / 1000 + 10 * 365 * 86400) }).resetAt, now + hour, 'an epoch reset years ahead');
  t.equal(read({ 'x-ratelimit-reset': '99999999999999999999' }).resetAt, now + hour, 'epoch milliseconds beyond any Date');
  t.strictSame(read({ 'ratelimit-remaining': 'lots', 'ratelimit-reset': 'soon', 'retry-after': '-5' }), {
    limit: undefined,
    remaining: undefined,
    resetAt: undefined,
    retryAt: undefined,
  }, 'garbage is absent, never a number');
});

t.test('a huge Retry-After or a reset years ahead overflows no timer and breaks no page: the budget closes for at most an hour', async (t) => {
  const emu = await emulator(t);
  const yearsAhead = String(Math.floor(Date.now() / 1000) + 10 * 365 * 24 * 3600);
  const up = await customUpstream(t, (seen) => {
    if (seen.url.startsWith('/huge/')) return { status: 429, headers: { 'retry-after': '99999999999999999999' } };
    if (seen.url.startsWith('/years/')) return { status: 200, headers: { 'ratelimit-limit': '5', 'ratelimit-remaining': '0', 'ratelimit-reset': yearsAhead } };
    // Beyond what a Date can hold (epoch milliseconds of 10^20): toISOString would throw.
    return { status: 200, headers: { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '99999999999999999999' } };
  });
  const gw = await proxy(t, customConfig(emu, up.url, { maxWaitMs: 1000 }));
  const http = client(t);

  t.equal((await call(http, `${gw.url}/custom/huge/1`)).status, 429, "a huge Retry-After: the upstream's 429 passes through (not retried)");
  t.equal((await call(http, `${gw.url}/custom/years/1`)).status, 200);
  t.equal((await call(http, `${gw.url}/custom/epoch/1`)).status, 200);
  for (const api of ['huge', 'years', 'epoch']) {
    const refused = await call(http, `${gw.url}/custom/${api}/2`);
    const seconds = assertProxyRefusal(t, refused, 'team');
    t.ok(seconds <= 3600, `${api}: Retry-After at most an hour (${seconds} s)`);
  }
  t.equal(up.seen.length, 3, 'each API went upstream once: no request loop from a timer that fired at once');
  for (const page of ['/-/status', '/-/', '/-/metrics']) t.equal((await call(http, gw.url + page)).status, 200, `${page} answers 200`);
  const apis = (await call(http, `${gw.url}/-/status`)).json<StatusView>().rateLimits.apis;
  const hourAhead = Date.now() + 3600_000 + 60_000;
  t.equal(apis.length, 3);
  for (const api of apis) {
    t.ok(api.blockedUntil !== null && Date.parse(api.blockedUntil) <= hourAhead, `${api.path}: closed, for at most an hour`);
  }
});

t.test('a request held for a closed budget and then answered 429 upstream is held at most maxWaitMs in all, not once per hold', async (t) => {
  const emu = await emulator(t);
  const up = await customUpstream(t, (seen) => {
    if (seen.url === '/items/1') return { status: 200, headers: { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': '1' } };
    return { status: 429, headers: { 'retry-after': '1', 'x-upstream-mark': 'upstream' } };
  });
  // A first hold of about 1 s leaves less than the 1 s the 429 asks for: no second hold, no retry.
  const gw = await proxy(t, customConfig(emu, up.url, { maxWaitMs: 1500 }));
  const http = client(t);

  t.equal((await call(http, `${gw.url}/custom/items/1`)).status, 200, 'the answer says the budget is spent for 1 s');
  const res = await call(http, `${gw.url}/custom/items/2`, { headers: { 'x-request-id': 'held-then-429' } });
  t.equal(res.status, 429);
  t.equal(res.headers['x-upstream-mark'], 'upstream', "the upstream's 429 passes through");
  t.equal(up.seen.filter((s) => s.url === '/items/2').length, 1, 'sent once: not held a second time and retried');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_held_total', 'team'), 1, 'held once');
  t.equal(await sample(http, gw, 'greenlake_proxy_rate_limit_retried_total', 'team'), 0, 'not retried');
  const line = gw.logs.find((l) => l.includes('"reqId":"held-then-429"') && l.includes('heldForRateLimitMs'));
  const heldMs = Number(/"heldForRateLimitMs":(\d+)/.exec(line ?? '')?.[1]);
  t.ok(heldMs <= 1500, `the request log says it was held ${heldMs} ms, within maxWaitMs`);
});

t.test('metrics label values stay bounded: past 50 distinct APIs, the api label is "other"', async (t) => {
  const emu = await emulator(t);
  const up = await customUpstream(t, () => ({ status: 200, headers: { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' } }));
  const gw = await proxy(t, customConfig(emu, up.url, { maxWaitMs: 0 }));
  const http = client(t);
  // Paths without IDs: 60 distinct APIs (letters only, so none is generalised away).
  const names = Array.from({ length: 60 }, (_, i) => `res${String.fromCharCode(97 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`);
  for (const name of names) {
    t.equal((await call(http, `${gw.url}/custom/${name}`)).status, 200);
    t.equal((await call(http, `${gw.url}/custom/${name}`)).status, 429);
  }
  const text = (await call(http, `${gw.url}/-/metrics`)).text;
  const lines = text.split('\n').filter((l) => l.startsWith('greenlake_proxy_rate_limit_refused_total{'));
  const labels = lines.map((l) => /api="([^"]*)"/.exec(l)?.[1]);
  t.equal(new Set(labels).size, 51, '50 APIs by name, and "other"');
  t.ok(lines.includes('greenlake_proxy_rate_limit_refused_total{client="team",api="other"} 10'), 'the last 10 APIs are counted under "other"');
  t.equal(lines.reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0), 60, 'every refusal is counted');
});

t.test('MSP mode: each tenant workspace has its own budget for an API, apart from the MSP workspace', async (t) => {
  const emu = await emulator(t);
  const up = await customUpstream(t, () => ({ status: 200, headers: { 'ratelimit-limit': '1', 'ratelimit-remaining': '0', 'ratelimit-reset': '30' } }));
  const gw = await proxy(t, configFor(emu, {
    clients: [
      {
        name: 'msp',
        clientId: DEMO_CLIENT.clientId,
        clientSecret: DEMO_SECRET,
        tokenUrl: emu.workspaceTokenUrl('00112233445566778899aabbccddeeff'),
        tenants: [
          { name: 'acme', workspaceId: '0123456789abcdef0123456789abcdef' },
          { name: 'beta', workspaceId: 'fedcba9876543210fedcba9876543210' },
        ],
      },
    ],
    routes: [{ prefix: '/pick', upstream: up.url, tenantHeader: true }],
    rateLimits: { maxWaitMs: 0 },
  }));
  const http = client(t);
  const devices = `${gw.url}/pick/devices/v1/devices`;
  const as = (tenant: string) => ({ headers: { 'x-greenlake-workspace': tenant } });

  t.equal((await call(http, devices, as('acme'))).status, 200, "acme's answer: its budget is spent");
  const refused = await call(http, devices, as('acme'));
  assertProxyRefusal(t, refused, 'msp');
  t.match(refused.json().message, 'in tenant "acme"', 'the refusal names the tenant');
  t.equal((await call(http, devices, as('beta'))).status, 200, 'beta is another workspace: sent');
  t.equal((await call(http, devices)).status, 200, "so is the MSP's own");
  t.equal(up.seen.length, 3, 'only the refused request stayed here');
  const apis = (await call(http, `${gw.url}/-/status`)).json<StatusView>().rateLimits.apis;
  t.same(apis.map((a) => a.tenant).sort(), ['acme', 'beta', null], '/-/status: one budget per workspace');
});
