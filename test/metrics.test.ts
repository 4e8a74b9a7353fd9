import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import t from 'tap';
import { DEFAULT_TOKEN_LIFETIME_SECONDS, DEMO_CLIENT } from '../src/emulator/index.ts';
import {
  assertNoCredentialsIn,
  call,
  client,
  configFor,
  DEMO_SECRET,
  emulator,
  eventually,
  proxy,
  tokensSeenBy,
  type Answer,
  type RunningProxy,
  type Tap,
} from './helpers/index.ts';
import { parseExposition, samplesOf, valueOf, type Exposition, type Sample } from './helpers/prometheus.ts';

const WRONG_SECRET = 'not-the-secret-3b9d0c7e1f2a4b5c';
const PROXIED_ROUTES = ['/dscc/us1', '/com/us-west', '/glp/global'];

/** Scrapes /-/metrics and checks what every scrape must be: 200, prom-client's content type, valid exposition. */
async function scrape(t: Tap, http: ReturnType<typeof client>, base: string): Promise<{ answer: Answer; metrics: Exposition }> {
  const answer = await call(http, `${base}/-/metrics`);
  t.equal(answer.status, 200, `GET ${base}/-/metrics answers 200`);
  t.equal(answer.headers['content-type'], Registry.PROMETHEUS_CONTENT_TYPE, 'Prometheus text format 0.0.4, as prom-client names it');
  t.equal(answer.headers['cache-control'], 'no-store');
  return { answer, metrics: parseExposition(answer.text) };
}

function adminUrlOf(gw: RunningProxy): string {
  if (gw.gateway.adminUrl === undefined) throw new Error('the admin listener is not up');
  return gw.gateway.adminUrl;
}

function counts(samples: readonly Sample[], keys: readonly string[]): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [keys.map((k) => s.labels[k]).join(' '), s.value]));
}

t.test('metrics count what was sent: requests, token fetches, expiry, upstream latency, 429s, in-flight', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(
    t,
    configFor(emu, {
      admin: { host: '127.0.0.1', port: 0 },
      clients: [
        { name: 'team', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_SECRET, tokenUrl: emu.tokenUrl },
        { name: 'wrong', clientId: DEMO_CLIENT.clientId, clientSecret: WRONG_SECRET, tokenUrl: emu.tokenUrl },
      ],
      routes: [
        { prefix: '/dscc/us1', upstream: emu.url, client: 'team' },
        { prefix: '/com/us-west', upstream: emu.url, client: 'team' },
        { prefix: '/glp/global', upstream: emu.url, client: 'wrong' },
      ],
      tokens: { maxAttempts: 1 },
      // No rate-limit budget: the upstream's 429 reaches the caller (with it, the proxy answers the next one itself: below).
      rateLimits: { enabled: false },
    }),
  );
  const http = client(t);
  const adminUrl = adminUrlOf(gw);

  // Unique strings in every path and query: none of them may become a label value.
  const markers: string[] = [];
  const mark = (): string => {
    const m = `m${randomUUID().replaceAll('-', '')}`;
    markers.push(m);
    return m;
  };
  const startedAt = Date.now();
  const statuses: number[] = [];
  const send = async (path: string, method = 'GET'): Promise<void> => {
    statuses.push((await call(http, `${gw.url}${path}`, { method, ...(method !== 'GET' && { body: 'x' }) })).status);
  };
  for (let i = 0; i < 3; i++) await send(`/dscc/us1/echo/${mark()}?q=${mark()}&${mark()}=1`);
  for (let i = 0; i < 2; i++) await send(`/dscc/us1/echo/${mark()}`, 'POST');
  await send(`/dscc/us1/${mark()}/nothing-here`); // the upstream's own 404
  await send(`/${mark()}/no-route?x=${mark()}`); // no route: the proxy's 404
  emu.setRateLimit({ limit: 1, windowSeconds: 60 });
  for (let i = 0; i < 2; i++) await send(`/com/us-west/echo/${mark()}`);
  emu.setRateLimit(undefined);
  await send(`/glp/global/echo/${mark()}`); // the token endpoint says invalid_client
  t.same(statuses, [200, 200, 200, 200, 200, 404, 404, 200, 429, 502], 'the answers the counts should reflect');
  t.equal(emu.tokenRequests.filter((r) => r.status === 401).length, 1, 'one rejected token request (invalid_client)');

  // Scraped on the admin listener first: it has no observer, so the scrape counts nothing itself.
  const { answer, metrics } = await scrape(t, http, adminUrl);
  const scrapedAt = Date.now();

  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_requests_total'), ['route', 'method_class', 'status']),
    {
      '/dscc/us1 read 200': 3,
      '/dscc/us1 write 200': 2,
      '/dscc/us1 read 404': 1,
      'none read 404': 1,
      '/com/us-west read 200': 1,
      '/com/us-west read 429': 1,
      '/glp/global read 502': 1,
    },
    'requests_total: one series per route, method class and status, with the counts sent',
  );

  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_token_fetches_total'), ['client', 'region', 'outcome']),
    { 'team /dscc/us1 ok': 1, 'team /com/us-west ok': 1, 'wrong /glp/global rejected': 1 },
    'token_fetches_total: ok per (client, region) fetched, rejected after invalid_client',
  );
  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_token_endpoint_latency_seconds_count'), ['client']),
    { team: 2, wrong: 1 },
    'token endpoint latency observed once per token request',
  );

  const expiries = samplesOf(metrics, 'greenlake_proxy_token_expires_in_seconds');
  t.same(expiries.map((s) => s.labels.region).sort(), ['/com/us-west', '/dscc/us1'], 'expiry only for tokens held');
  const ceiling = DEFAULT_TOKEN_LIFETIME_SECONDS;
  const floor = DEFAULT_TOKEN_LIFETIME_SECONDS - (scrapedAt - startedAt) / 1000;
  for (const s of expiries) {
    t.equal(s.labels.client, 'team');
    t.ok(s.value <= ceiling && s.value >= floor, `expires in ${s.value} s: within [${floor}, ${ceiling}] (the emulator's lifetime minus the time since the test began)`);
  }

  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_upstream_latency_seconds_count'), ['route']),
    { '/dscc/us1': 6, '/com/us-west': 2 },
    'upstream latency observed once per upstream answer (none for the route that never got a token)',
  );
  for (const route of ['/dscc/us1', '/com/us-west']) {
    const buckets = samplesOf(metrics, 'greenlake_proxy_upstream_latency_seconds_bucket', { route });
    const cumulative = buckets.map((b) => b.value);
    t.same(cumulative, [...cumulative].sort((a, b) => a - b), `${route}: buckets are cumulative`);
    t.equal(buckets.find((b) => b.labels.le === '+Inf')?.value, valueOf(metrics, 'greenlake_proxy_upstream_latency_seconds_count', { route }), `${route}: +Inf bucket equals the count`);
    t.ok((valueOf(metrics, 'greenlake_proxy_upstream_latency_seconds_sum', { route }) ?? -1) > 0, `${route}: some time was measured`);
  }

  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_upstream_rate_limited_total'), ['client']),
    { team: 1 },
    'the upstream 429 is counted for the API client it limits',
  );
  t.equal(valueOf(metrics, 'greenlake_proxy_inflight_requests'), 0, 'nothing in flight once every answer arrived');
  t.ok(metrics.has('greenlake_proxy_process_cpu_seconds_total'), 'default process metrics, with the same prefix');

  // Bounded label values: configuration names, method classes, status codes; never a path or query.
  const leaked = markers.filter((m) => answer.text.includes(m));
  t.same(leaked, [], 'no path, query string or query key sent appears anywhere in the metrics');
  const allowed: Record<string, (value: string) => boolean> = {
    route: (v) => v === 'none' || PROXIED_ROUTES.includes(v),
    region: (v) => PROXIED_ROUTES.includes(v),
    client: (v) => v === 'team' || v === 'wrong',
    method_class: (v) => v === 'read' || v === 'write',
    status: (v) => /^[1-5]\d\d$/.test(v),
    outcome: (v) => ['ok', 'rejected', 'unavailable'].includes(v),
    le: (v) => v === '+Inf' || Number.isFinite(Number(v)),
  };
  const own = [...metrics.values()].filter((f) => !f.name.startsWith('greenlake_proxy_process_') && !f.name.startsWith('greenlake_proxy_nodejs_'));
  const outOfBounds = own.flatMap((f) =>
    f.samples.flatMap((s) => Object.entries(s.labels).filter(([k, v]) => !(allowed[k]?.(v) ?? false)).map(([k, v]) => `${s.name}{${k}=${v}}`)),
  );
  t.same(outOfBounds, [], 'every label of the proxy\'s own metrics takes a value from a bounded set');
  assertNoCredentialsIn(t, [answer.text], [DEMO_SECRET, WRONG_SECRET, ...tokensSeenBy(emu)]);

  // The main listener serves the same registry; a scrape there is itself a request in flight.
  const main = await scrape(t, http, gw.url);
  for (const route of PROXIED_ROUTES) {
    t.same(
      samplesOf(main.metrics, 'greenlake_proxy_requests_total', { route }),
      samplesOf(metrics, 'greenlake_proxy_requests_total', { route }),
      `${route}: the main listener shows the same request counts`,
    );
  }
  t.equal(valueOf(main.metrics, 'greenlake_proxy_inflight_requests'), 1, 'on the main listener, the scrape itself is the one request in flight');
  assertNoCredentialsIn(t, [main.answer.text], [DEMO_SECRET, WRONG_SECRET, ...tokensSeenBy(emu)]);
});

t.test('in-flight gauge counts a request held upstream, then returns to 0', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { admin: { host: '127.0.0.1', port: 0 } }));
  const http = client(t);
  const adminUrl = adminUrlOf(gw);
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200, 'a token first, so the held request waits only upstream');
  emu.setApiFault({ kind: 'delay', ms: 1000 });
  const held = call(client(t), `${gw.url}/dscc/us1/api/v1/volumes`);
  await eventually('the slow request reached the upstream', () => emu.apiRequests.length >= 2);
  const during = await scrape(t, http, adminUrl);
  t.equal(valueOf(during.metrics, 'greenlake_proxy_inflight_requests'), 1, 'the held request is in flight');
  t.equal(
    valueOf(during.metrics, 'greenlake_proxy_requests_total', { route: '/dscc/us1', method_class: 'read', status: '200' }),
    1,
    'and not yet counted as answered',
  );
  t.equal((await held).status, 200);
  emu.setApiFault(undefined);
  const after = await scrape(t, http, adminUrl);
  t.equal(valueOf(after.metrics, 'greenlake_proxy_inflight_requests'), 0, 'back to 0 once answered');
  t.equal(valueOf(after.metrics, 'greenlake_proxy_requests_total', { route: '/dscc/us1', method_class: 'read', status: '200' }), 2);
});

t.test('with the rate-limit budget, the proxy\'s own 429 is told apart from an upstream one', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { admin: { host: '127.0.0.1', port: 0 } }));
  const http = client(t);
  emu.setRateLimit({ limit: 1, windowSeconds: 60 });
  const answers = [];
  for (let i = 0; i < 2; i++) answers.push(await call(http, `${gw.url}/com/us-west/echo/x`));
  t.same(answers.map((a) => a.status), [200, 429]);
  t.equal(answers[1]?.json().errorCode, 'GREENLAKE_PROXY_UPSTREAM_RATE_LIMITED', 'the second 429 is the proxy\'s: the first answer said remaining 0');
  t.equal(emu.apiRequests.length, 1, 'the second request never reached the upstream');
  const { metrics } = await scrape(t, http, adminUrlOf(gw));
  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_requests_total'), ['route', 'method_class', 'status']),
    { '/com/us-west read 200': 1, '/com/us-west read 429': 1 },
    'requests_total counts the 429 the caller got, whoever sent it',
  );
  t.equal(valueOf(metrics, 'greenlake_proxy_rate_limit_refused_total', { client: 'team', api: 'GET /echo/x' }), 1, 'refused by the proxy, for the client and API');
  t.same(samplesOf(metrics, 'greenlake_proxy_upstream_rate_limited_total'), [], 'no 429 came from the upstream');
  t.same(
    counts(samplesOf(metrics, 'greenlake_proxy_upstream_latency_seconds_count'), ['route']),
    { '/com/us-west': 1 },
    'one upstream answer measured',
  );
});
