/**
 * The token keeper against a hostile or odd token endpoint (issue 15) and the behaviours a
 * mutation run found untested (issue 17 section 1), each through the real proxy, with a token
 * endpoint and an upstream of our own (test/helpers/oauth-servers.ts).
 */
import type { ServerResponse } from 'node:http';
import t from 'tap';
import { assertNoCredentialsIn, call, client, eventually, proxy, type Answer } from './helpers/index.ts';
import { anyTokenUpstream, bearersSeenBy, configWith, jwtWith, sendJson, tokenAnswer, tokenServer, type Answerer } from './helpers/oauth-servers.ts';

const TEN_YEARS_S = 10 * 365 * 24 * 3600;
const ONE_SHOT = { maxAttempts: 1, backoffBaseMs: 20, backoffMaxMs: 40 };

interface StatusToken {
  state: string;
  expiresAt: string | null;
  fetches: number;
  lastError: { code: string; message: string } | null;
}

async function statusTokens(http: ReturnType<typeof client>, url: string): Promise<StatusToken[]> {
  const res = await call(http, `${url}/-/status`);
  if (res.status !== 200) throw new Error(`/-/status answered ${res.status}`);
  return res.json<{ tokens: StatusToken[] }>().tokens;
}

function secondsLeft(token: StatusToken | undefined): number {
  return (Date.parse(token?.expiresAt ?? '') - Date.now()) / 1000;
}

function errorOf(res: Answer): { errorCode: string; message: string } {
  return res.json<{ errorCode: string; message: string }>();
}

/** Writes 64 KiB chunks for as long as the reader takes them; counts what was written and whether the connection was closed. */
function endless(res: ServerResponse, seen: { bytes: number; closed: boolean }, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  const chunk = Buffer.alloc(64 * 1024, ' ');
  res.on('close', () => (seen.closed = true));
  const pump = (): void => {
    while (!res.destroyed) {
      seen.bytes += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
  };
  res.write('{"access_token":"');
  pump();
}

// ---------------------------------------------------------------------------------------------
// 15.2: lifetimes past Node's timer limit

t.test('a token that lives for years (expires_in, or JWT exp) does not overflow the refresh timer into a fetch loop', async (t) => {
  for (const [what, answer] of [
    ['expires_in of ten years', tokenAnswer(TEN_YEARS_S)],
    ['expires_in of 1e20 s', tokenAnswer(1e20)],
    ['a JWT exp ten years ahead, no expires_in', tokenAnswer(undefined, jwtWith({ exp: Math.floor(Date.now() / 1000) + TEN_YEARS_S }))],
  ] as const) {
    const tokens = await tokenServer(t, answer);
    const upstream = await anyTokenUpstream(t);
    const gw = await proxy(t, configWith(tokens, upstream));
    const http = client(t);
    // Enough round trips for a timer that fires at once to fetch again and again.
    for (let i = 0; i < 30; i++) t.equal((await call(http, `${gw.url}/api/n/${i}`)).status, 200);
    for (const page of ['/-/status', '/-/', '/-/metrics']) t.equal((await call(http, `${gw.url}${page}`)).status, 200, `${what}: ${page} answers`);
    t.equal(tokens.received.length, 1, `${what}: one token fetch, no loop`);
    t.ok(secondsLeft((await statusTokens(http, gw.url))[0]) > 300 * 24 * 3600, `${what}: status shows a far expiry`);
  }
});

t.test('a huge Retry-After from a failing token endpoint does not overflow the retry timer into a fetch loop', async (t) => {
  const tokens = await tokenServer(t, (_req, res) => sendJson(res, 503, { error: 'temporarily_unavailable' }, { 'retry-after': '99999999999' }));
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: ONE_SHOT }));
  const http = client(t);
  for (let i = 0; i < 20; i++) {
    const res = await call(http, `${gw.url}/api/n/${i}`);
    t.equal(res.status, 502);
    if (i > 0) t.ok(Number(res.headers['retry-after']) <= 3600, `Retry-After is clamped to an hour (${String(res.headers['retry-after'])})`);
  }
  t.equal((await call(http, `${gw.url}/-/status`)).status, 200);
  t.equal(tokens.received.length, 1, 'one token fetch; the next waits for the (clamped) Retry-After');
});

// ---------------------------------------------------------------------------------------------
// 15.4: bounded reads

t.test('an endless token endpoint answer is cut off at 64 KiB: a token error naming the cap, the connection closed', async (t) => {
  const seen = { bytes: 0, closed: false };
  const tokens = await tokenServer(t, (_req, res) => endless(res, seen));
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: ONE_SHOT, timeouts: { tokenRequestMs: 60_000, tokenWaitMs: 60_000 } }));
  const rssBefore = process.memoryUsage().rss;
  const res = await call(client(t), `${gw.url}/api/x`);
  t.equal(res.status, 502);
  t.equal(errorOf(res).errorCode, 'GREENLAKE_PROXY_TOKEN_UNAVAILABLE');
  t.match(errorOf(res).message, /token endpoint answer is larger than 64 KiB: not read further/);
  await eventually('the proxy closed the connection', () => seen.closed);
  t.ok(seen.bytes < 64 * 1024 * 1024, `the endpoint could write only ${seen.bytes} bytes before the proxy hung up`);
  t.comment(`written before close: ${seen.bytes} bytes; rss change ${Math.round((process.memoryUsage().rss - rssBefore) / 1024 / 1024)} MiB`);
  t.equal(upstream.received.length, 0);
});

t.test('a token answer declaring more than 64 KiB is refused before its body is read', async (t) => {
  const seen = { bytes: 0, closed: false };
  const tokens = await tokenServer(t, (_req, res) => endless(res, seen, { 'content-length': String(100 * 1024 * 1024) }));
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: ONE_SHOT }));
  const res = await call(client(t), `${gw.url}/api/x`);
  t.match(errorOf(res).message, /larger than 64 KiB/);
  await eventually('the proxy closed the connection', () => seen.closed);
});

t.test('an endless JWKS is cut off at 1 MiB: the caller gets 503 AUTH_UNAVAILABLE, the connection is closed', async (t) => {
  const seen = { bytes: 0, closed: false };
  const jwks = await tokenServer(t, (_req, res) => endless(res, seen));
  const tokens = await tokenServer(t);
  const upstream = await anyTokenUpstream(t);
  const jwt = { issuer: 'https://idp.example', audience: 'proxy', jwksUrl: `${jwks.url}/jwks`, clients: { team: ['team'] } };
  const gw = await proxy(t, configWith(tokens, upstream, {}, { inbound: { jwt } }));
  const bearer = `${Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k1' })).toString('base64url')}.${Buffer.from('{}').toString('base64url')}.c2ln`;
  const res = await call(client(t), `${gw.url}/api/x`, { headers: { authorization: `Bearer ${bearer}` } });
  t.equal(res.status, 503);
  t.equal(errorOf(res).errorCode, 'GREENLAKE_PROXY_AUTH_UNAVAILABLE');
  await eventually('the proxy closed the JWKS connection', () => seen.closed);
  t.ok(seen.bytes < 64 * 1024 * 1024, `the JWKS server could write only ${seen.bytes} bytes`);
  t.match(gw.logs.join('\n'), /JWKS answer is larger than 1 MiB: not read further/, 'the log names the cap');
  t.equal(upstream.received.length, 0);
});

// ---------------------------------------------------------------------------------------------
// 15.6: 401 amplification

t.test('an upstream that always answers 401 costs one forced token fetch per 10 s, not one per request; counted in metrics', async (t) => {
  const tokens = await tokenServer(t);
  const upstream = await anyTokenUpstream(t, (_req, res) => sendJson(res, 401, { error: 'nope' }));
  const gw = await proxy(t, configWith(tokens, upstream));
  const http = client(t);
  const startedAt = Date.now();
  const requests = 30;
  for (let i = 0; i < requests; i++) t.equal((await call(http, `${gw.url}/api/always-401/${i}`)).status, 401);
  // A bound, not a timing assertion: one forced fetch per started 10 s interval is the behaviour.
  const allowed = 2 + Math.floor((Date.now() - startedAt) / 10_000);
  t.ok(tokens.received.length <= allowed, `${tokens.received.length} token fetches for ${requests} refused requests (at most ${allowed})`);
  t.ok(tokens.received.length >= 2, 'the first 401 did drop the token');
  const metrics = (await call(http, `${gw.url}/-/metrics`)).text;
  const count = (outcome: string) => Number(new RegExp(`greenlake_proxy_token_refused_upstream_total\\{[^}]*outcome="${outcome}"[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  t.equal(count('dropped'), tokens.received.length - 1, 'each forced refresh counted as dropped');
  t.equal(count('dropped') + count('kept'), requests, 'every 401 to the cached token counted (the replays carried the token just fetched)');
});

// ---------------------------------------------------------------------------------------------
// 15.15: no secret in the IdP's error text

t.test('an IdP that echoes its input: the secret (raw, form-encoded, base64) is cut out of 502s, status and logs', async (t) => {
  const secret = 'p@ss:w%rd+&x y-9Qz??>'; // its base64 has a +, its base64url a -
  const echo: Answerer = (req, res) => {
    // Every form within the 300 characters the proxy keeps of each field...
    const description = `raw=${secret} body=${req.body} auth=${String(req.headers.authorization)} b64=${Buffer.from(secret).toString('base64')} uri=${encodeURIComponent(secret)}`;
    // ...and a secret that straddles that clip: cut before clipping, or its first 8 characters would show.
    const error = `invalid_client ${'x'.repeat(277)}${secret}`;
    sendJson(res, 401, { error, error_description: description });
  };
  for (const authMethod of ['client_secret_post', 'client_secret_basic']) {
    const tokens = await tokenServer(t, echo);
    const upstream = await anyTokenUpstream(t);
    const gw = await proxy(t, configWith(tokens, upstream, { clientSecret: secret, authMethod }, { tokens: ONE_SHOT }));
    const http = client(t);
    const res = await call(http, `${gw.url}/api/x`);
    t.equal(res.status, 502);
    t.match(errorOf(res).message, /invalid_client/, `${authMethod}: the IdP's error still reaches the caller`);
    const fastFail = await call(http, `${gw.url}/api/y`);
    const status = await call(http, `${gw.url}/-/status`);
    const page = await call(http, `${gw.url}/-/`, { headers: { accept: 'text/html' } });
    const forms = [
      secret,
      new URLSearchParams({ s: secret }).toString().slice(2),
      encodeURIComponent(secret),
      Buffer.from(secret).toString('base64'),
      Buffer.from(`the-client:${new URLSearchParams({ s: secret }).toString().slice(2)}`).toString('base64'),
      secret.slice(0, 8), // what a clip in the middle of the secret would leave
    ];
    for (const [where, text] of [['502 body', res.text], ['fail-fast 502', fastFail.text], ['/-/status', status.text], ['/-/ page', page.text]] as const) {
      const leaked = forms.filter((form) => text.includes(form)).map((form) => forms.indexOf(form));
      t.strictSame(leaked, [], `${authMethod}: no form of the secret in the ${where}`);
    }
    t.match(status.text, /\[redacted\]/, `${authMethod}: status shows where the secret was cut`);
    assertNoCredentialsIn(t, gw.logs, forms);
  }
});

// ---------------------------------------------------------------------------------------------
// 15.16: fail fast during a token outage

t.test('during a token outage, requests in the cool-down fail at once with 502 and Retry-After, not after tokenWaitMs', async (t) => {
  let hang = false;
  const held: ServerResponse[] = [];
  const tokens = await tokenServer(t, (_req, res) => (hang ? held.push(res) : sendJson(res, 503, { error: 'temporarily_unavailable' })));
  t.teardown(() => held.forEach((res) => res.destroy()));
  const upstream = await anyTokenUpstream(t);
  // A cool-down of 10-20 s, and requests that would wait 60 s for a token: waiting would show as a hang, not a quick 502.
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { maxAttempts: 1, backoffBaseMs: 20_000, backoffMaxMs: 20_000 }, timeouts: { tokenWaitMs: 60_000 } }));
  const http = client(t);
  const first = await call(http, `${gw.url}/api/a`);
  t.equal(first.status, 502, 'the failed round');
  hang = true; // any further fetch would now hang: a request that waited for it could not answer
  for (let i = 0; i < 5; i++) {
    const res = await call(http, `${gw.url}/api/b/${i}`);
    t.equal(res.status, 502);
    t.equal(errorOf(res).errorCode, 'GREENLAKE_PROXY_TOKEN_UNAVAILABLE');
    t.match(errorOf(res).message, /next attempt in \d+ s/);
    const retryAfter = Number(res.headers['retry-after']);
    t.ok(retryAfter >= 1 && retryAfter <= 20, `Retry-After until the next attempt (${retryAfter} s)`);
  }
  t.equal(tokens.received.length, 1, 'no request started a fetch during the cool-down');
});

t.test('after a failed round, the next attempt is made in the background when requests asked during the cool-down; they recover at once', async (t) => {
  let down = true;
  const tokens = await tokenServer(t, (req, res, n) => (down ? sendJson(res, 503, { error: 'temporarily_unavailable' }) : tokenAnswer(3600)(req, res, n)));
  const upstream = await anyTokenUpstream(t);
  // A cool-down of 1.5-3 s: a request made during it is one a busy machine still gets in (the loop below allows misses).
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { maxAttempts: 1, backoffBaseMs: 3000, backoffMaxMs: 3000 } }));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/api/a`)).status, 502, 'the failed round');
  // A request during the cool-down fails fast (on a slow machine the first may miss it: it then fails a round of its own).
  let failedFast = false;
  for (let i = 0; i < 20 && !failedFast; i++) {
    const res = await call(http, `${gw.url}/api/b`);
    t.equal(res.status, 502);
    failedFast = res.headers['retry-after'] !== undefined;
  }
  t.ok(failedFast, 'a request failed fast during the cool-down');
  const fetches = tokens.received.length;
  down = false;
  // No request now: only the keeper itself can fetch.
  await eventually('the keeper tried again by itself after the cool-down', () => tokens.received.length === fetches + 1, 20_000);
  t.equal((await call(http, `${gw.url}/api/c`)).status, 200, 'the next request has its token at once');
  t.equal(tokens.received.length, fetches + 1, 'and caused no fetch of its own');
});

t.test('a keeper nobody asks during its cool-down does not retry by itself', async (t) => {
  const tokens = await tokenServer(t, (_req, res) => sendJson(res, 503, { error: 'temporarily_unavailable' }));
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { maxAttempts: 1, backoffBaseMs: 20, backoffMaxMs: 20 } }));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/api/a`)).status, 502);
  // Status pages do not ask for tokens. A bound, counted and timed: at least 30 round trips and
  // ten of the longest (20 ms) cool-downs, however fast or slow the machine is.
  const failedAt = Date.now();
  for (let i = 0; i < 30 || Date.now() - failedAt < 200; i++) await call(http, `${gw.url}/-/status`);
  t.equal(tokens.received.length, 1, 'one fetch: the one the request asked for');
});

t.test('a token that expires while its refreshes fail is dropped: status shows none held (fetch failure clears an expired token)', async (t) => {
  // 1: a token living 2 s (refreshed after 1.6 s); then the endpoint only fails, so the background retries fail past its expiry.
  const tokens = await tokenServer(t, (req, res, n) => (n === 1 ? tokenAnswer(2)(req, res, n) : sendJson(res, 503, { error: 'temporarily_unavailable' })));
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { minTtlSeconds: 0, maxAttempts: 1, backoffBaseMs: 100, backoffMaxMs: 100 } }));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/api/1`)).status, 200);
  await eventually('the expired token was dropped after a failed refresh', async () => (await statusTokens(http, gw.url))[0]?.expiresAt === null, 15_000);
  const [status] = await statusTokens(http, gw.url);
  t.equal(status?.state, 'failing', 'failing, with no token held');
  t.ok(tokens.received.length >= 2, `the refresh was tried (${tokens.received.length} token requests)`);
});

// ---------------------------------------------------------------------------------------------
// 17 section 1

t.test('a background refresh that fails while the cached token is usable is retried after the cool-down; requests never wait (17.1)', async (t) => {
  const held: ServerResponse[] = [];
  // 1: a token usable for 12 s (refreshed after 9.6 s: 2.4 s left for the checks below); 2: the refresh fails; 3: the retry, held open by the test.
  const tokens = await tokenServer(t, (req, res, n) => {
    if (n === 1) return tokenAnswer(12)(req, res, n);
    if (n === 2) return sendJson(res, 503, { error: 'temporarily_unavailable' });
    held.push(res);
  });
  t.teardown(() => held.forEach((res) => res.destroy()));
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { minTtlSeconds: 0, ...ONE_SHOT } }));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/api/1`)).status, 200);
  await eventually('the failed refresh was retried after its cool-down', () => tokens.received.length === 3, 20_000);
  // The retry hangs: a request that waited for it could not answer.
  t.equal((await call(http, `${gw.url}/api/2`)).status, 200, 'served from the cache while the retry is in flight');
  t.strictSame(bearersSeenBy(upstream), ['tok-1', 'tok-1']);
  sendJson(held.shift()!, 200, { access_token: 'tok-3', token_type: 'Bearer', expires_in: 3600 });
  await eventually('the retried token is used', async () => (await call(http, `${gw.url}/api/3`)).status === 200 && bearersSeenBy(upstream).at(-1) === 'tok-3');
});

t.test('a late 401 for an old token never drops the newer token that replaced it (17.2)', async (t) => {
  const tokens = await tokenServer(t);
  let releaseSlow: (() => void) | undefined;
  const upstream = await anyTokenUpstream(t, (req, res) => {
    const bearer = String(req.headers.authorization);
    if (req.path.startsWith('/slow') && bearer === 'Bearer tok-1') {
      releaseSlow = () => sendJson(res, 401, { error: 'expired' }); // answered later, after the token has rotated
      return;
    }
    if (req.path.startsWith('/refuse') && bearer === 'Bearer tok-1') return sendJson(res, 401, { error: 'revoked' });
    sendJson(res, 200, {});
  });
  const gw = await proxy(t, configWith(tokens, upstream));
  const http = client(t);
  const slow = call(http, `${gw.url}/api/slow`);
  await eventually('the slow request reached the upstream with tok-1', () => releaseSlow !== undefined);
  t.equal((await call(http, `${gw.url}/api/refuse`)).status, 200, 'tok-1 refused: replaced by tok-2, replayed');
  t.equal(tokens.received.length, 2);
  releaseSlow!();
  t.equal((await slow).status, 200, 'the late 401 for tok-1 is replayed with tok-2');
  t.equal((await call(http, `${gw.url}/api/after`)).status, 200);
  t.equal(tokens.received.length, 2, 'tok-2 was kept: no third fetch');
  t.equal(bearersSeenBy(upstream).at(-1), 'tok-2', 'later requests carry tok-2');
});

t.test('a token whose lifetime equals minTtlSeconds is unusable; one second more is usable (17.9)', async (t) => {
  for (const [expiresIn, usable] of [[30, false], [32, true]] as const) {
    const tokens = await tokenServer(t, tokenAnswer(expiresIn));
    const upstream = await anyTokenUpstream(t);
    const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { ...ONE_SHOT, minTtlSeconds: 30 } }));
    const res = await call(client(t), `${gw.url}/api/x`);
    if (usable) {
      t.equal(res.status, 200, `expires_in ${expiresIn} with minTtlSeconds 30: forwarded`);
    } else {
      t.equal(res.status, 502, `expires_in ${expiresIn} with minTtlSeconds 30: never forwarded`);
      t.match(errorOf(res).message, /not more than tokens\.minTtlSeconds \(30 s\)/);
      t.equal(upstream.received.length, 0);
    }
  }
});

t.test('expires_in wins over the JWT exp when both are present and differ (17.10)', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  for (const [expiresIn, exp] of [[600, now + 7200], [3600, now + 300]] as const) {
    const tokens = await tokenServer(t, tokenAnswer(expiresIn, jwtWith({ exp, sub: 'x' })));
    const upstream = await anyTokenUpstream(t);
    const gw = await proxy(t, configWith(tokens, upstream));
    const http = client(t);
    t.equal((await call(http, `${gw.url}/api/x`)).status, 200);
    const left = secondsLeft((await statusTokens(http, gw.url))[0]);
    t.ok(left > expiresIn - 60 && left <= expiresIn + 1, `expires_in ${expiresIn} is used, not the exp ${exp - now} s ahead (${Math.round(left)} s left)`);
  }
});

t.test('a token answer that is not 200, or whose token_type is not Bearer, is not taken as a token (mutation run survivors)', async (t) => {
  const answers: Array<[number, Record<string, unknown>]> = [
    [201, { access_token: 'tok-created', token_type: 'Bearer', expires_in: 3600 }],
    [200, { access_token: 'tok-dpop', token_type: 'DPoP', expires_in: 3600 }],
  ];
  for (const [status, body] of answers) {
    const tokens = await tokenServer(t, (_req, res) => sendJson(res, status, body));
    const upstream = await anyTokenUpstream(t);
    const gw = await proxy(t, configWith(tokens, upstream, {}, { tokens: { maxAttempts: 1 } }));
    const res = await call(client(t), `${gw.url}/api/x`);
    t.equal(res.status, 502, `${status} ${String(body['token_type'])}: 502`);
    t.strictSame(bearersSeenBy(upstream), [], `${status} ${String(body['token_type'])}: nothing was forwarded with it`);
  }
});
