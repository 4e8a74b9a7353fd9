import { spawn } from 'node:child_process';
import { once } from 'node:events';
import t from 'tap';
import type { Emulator } from '../../src/emulator/index.ts';
import { hashKey } from '../../src/inbound/index.ts';
import { assertNoCredentialsIn, call, client, configFor, DEMO_SECRET, emulator, proxy, tokensSeenBy, type RunningProxy, type Tap } from '../helpers/index.ts';

const CI_KEY = 'glproxy_ci-key-0123456789abcdefghijklmnopqrstuv';
const READER_KEY = 'glproxy_reader-key-0123456789abcdefghijklmnopq';
const OTHER_KEY = 'glproxy_other-key-0123456789abcdefghijklmnopqr';
const KEYS = [CI_KEY, READER_KEY, OTHER_KEY];

const SERVERS = '/com/us-west/compute-ops-mgmt/v1/servers';
const VOLUMES = '/dscc/us1/api/v1/volumes';

/** Keys: ci (everything of client team), reader (GET/HEAD on /dscc/us1), other (only client other, on /lab). */
async function gateway(t: Tap): Promise<{ emu: Emulator; gw: RunningProxy }> {
  const emu = await emulator(t);
  const base = configFor(emu);
  const team = (base['clients'] as Array<Record<string, unknown>>)[0];
  const gw = await proxy(t, {
    ...base,
    clients: [team, { ...team, name: 'other' }],
    routes: [...(base['routes'] as unknown[]), { prefix: '/lab', upstream: emu.url, client: 'other' }],
    inbound: {
      apiKeys: [
        { name: 'ci', keyHash: hashKey(CI_KEY), clients: ['team'] },
        { name: 'reader', keyHash: hashKey(READER_KEY), clients: ['team'], routes: ['/dscc/us1'], methods: ['GET', 'HEAD'] },
        { name: 'other', keyHash: hashKey(OTHER_KEY), clients: ['other'] },
      ],
    },
  });
  return { emu, gw };
}

t.test('without a valid key: 401 on routes, unknown paths and /-/status; nothing forwarded, no token fetched', async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  // Named, not printed: most attempts are near-copies of a real key, which has no place in test output.
  const attempts: Array<[string, Record<string, string>]> = [
    ['no credentials', {}],
    ['a wrong bearer key', { authorization: 'Bearer wrong-key-0123456789' }],
    ['the key upper-cased', { authorization: `Bearer ${CI_KEY.toUpperCase()}` }],
    ['the key plus a character', { authorization: `Bearer ${CI_KEY}x` }],
    ['the key minus its last character', { authorization: `Bearer ${CI_KEY.slice(0, -1)}` }],
    ['the key as Basic credentials', { authorization: `Basic ${Buffer.from(`ci:${CI_KEY}`).toString('base64')}` }],
    ['the key without a scheme', { authorization: CI_KEY }],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a wrong X-API-Key', { 'x-api-key': 'wrong' }],
    ['an empty X-API-Key', { 'x-api-key': '' }],
    ["the key's stored hash", { 'x-api-key': hashKey(CI_KEY) }],
    ["the key's hash without its prefix", { 'x-api-key': hashKey(CI_KEY).slice('sha256:'.length) }],
    ['a wrong X-API-Key beside the right bearer', { 'x-api-key': 'wrong', authorization: `Bearer ${CI_KEY}` }],
    ['the key in a cookie', { cookie: `key=${CI_KEY}` }],
  ];
  for (const [what, headers] of attempts) {
    for (const path of [SERVERS, '/-/status', '/nope']) {
      const res = await call(http, gw.url + path, { headers });
      t.equal(res.status, 401, `${path} with ${what}: 401`);
      t.equal(res.json().errorCode, 'GREENLAKE_PROXY_UNAUTHENTICATED');
      // A key that was sent is "not accepted", never "no credentials" (a caller must not be told to add what it sent).
      if (what.startsWith('a wrong')) t.match(res.json().message, /not accepted/, `${path} with ${what}: the key was seen and refused`);
    }
  }
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');
  t.equal(emu.tokenRequests.length, 0, 'no token was fetched');
  t.equal((await call(http, `${gw.url}/-/healthz`)).status, 200, 'the liveness probe needs no key');
  t.equal((await call(http, `${gw.url}/-/readyz`)).status, 200, 'nor the readiness probe');
  assertNoCredentialsIn(t, gw.logs, KEYS);
});

t.test('a valid key, as Bearer or X-API-Key, is forwarded as the client token and never reaches GreenLake', async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  const byBearer = await call(http, `${gw.url}/glp/global/echo/headers`, { headers: { authorization: `Bearer ${CI_KEY}` } });
  t.equal(byBearer.status, 200);
  const byHeader = await call(http, `${gw.url}/glp/global/echo/headers`, { headers: { 'X-API-Key': CI_KEY } });
  t.equal(byHeader.status, 200);
  const lowerScheme = await call(http, `${gw.url}/glp/global/echo/headers`, { headers: { authorization: `bearer ${CI_KEY}` } });
  t.equal(lowerScheme.status, 200, 'the scheme is case-insensitive');
  t.equal(emu.apiRequests.length, 3);
  for (const seen of emu.apiRequests) {
    t.match(seen.headers.authorization, /^Bearer eyJ/, 'the upstream got the client token');
    t.equal(seen.headers['x-api-key'], undefined, 'X-API-Key stripped');
    t.notOk(JSON.stringify(seen.headers).includes(CI_KEY), 'the key is nowhere in what the upstream saw');
    t.equal(seen.tokenClientId, 'demo-client');
  }
  const status = await call(http, `${gw.url}/-/status`, { headers: { 'x-api-key': READER_KEY } });
  t.equal(status.status, 403, '/-/status needs the admin scope, which a route key does not have');
  t.equal(status.json().errorCode, 'GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED');
  t.notOk(status.text.includes(READER_KEY));
});

t.test('out of scope: client, route and method each give 403, and nothing is forwarded', async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  const outOfScope: Array<[string, string, string, RegExp]> = [
    [READER_KEY, 'GET', SERVERS, /key:reader may not use route \/com\/us-west/],
    [READER_KEY, 'POST', VOLUMES, /key:reader may not use method POST/],
    [READER_KEY, 'DELETE', VOLUMES, /method DELETE/],
    [OTHER_KEY, 'GET', SERVERS, /key:other may not use client team/],
    [CI_KEY, 'GET', '/lab/devices/v1/devices', /key:ci may not use client other/],
  ];
  for (const [key, method, path, message] of outOfScope) {
    const res = await call(http, gw.url + path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: method === 'GET' ? undefined : '{}' });
    t.equal(res.status, 403, `${method} ${path}: 403`);
    t.equal(res.json().errorCode, 'GREENLAKE_PROXY_FORBIDDEN');
    t.match(res.json().message, message);
  }
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');
  t.equal(emu.tokenRequests.length, 0, 'and no token fetched');

  const inScope: Array<[string, string, string]> = [
    [READER_KEY, 'GET', VOLUMES],
    [READER_KEY, 'HEAD', VOLUMES],
    [OTHER_KEY, 'GET', '/lab/devices/v1/devices'],
    [CI_KEY, 'DELETE', '/com/us-west/echo/x'],
  ];
  for (const [key, method, path] of inScope) {
    t.equal((await call(http, gw.url + path, { method, headers: { 'x-api-key': key } })).status, 200, `${method} ${path}: allowed`);
  }
  t.same(emu.apiRequests.map((r) => `${r.method} ${r.rawUrl}`), ['GET /api/v1/volumes', 'HEAD /api/v1/volumes', 'GET /devices/v1/devices', 'DELETE /echo/x']);
});

t.test('the audit log says who, what, outcome and duration for every request, and never a key or token', async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${READER_KEY}` } });
  await call(http, gw.url + SERVERS, { headers: { authorization: `Bearer ${READER_KEY}` } });
  await call(http, gw.url + VOLUMES, { headers: { authorization: 'Bearer nope-nope-nope' } });
  const lines = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line['msg'] === 'request');
  t.same(
    lines.map(({ who, method, route, path, status }) => ({ who, method, route, path, status })),
    [
      { who: 'key:reader', method: 'GET', route: '/dscc/us1', path: VOLUMES, status: 200 },
      { who: 'key:reader', method: 'GET', route: '/com/us-west', path: SERVERS, status: 403 },
      { who: undefined, method: 'GET', route: undefined, path: VOLUMES, status: 401 },
    ],
  );
  for (const line of lines) t.type(line['durationMs'], 'number', 'with its duration');
  assertNoCredentialsIn(t, gw.logs, [...KEYS, DEMO_SECRET, ...tokensSeenBy(emu)]);
});

// -------------------------------------------------------------------------------------------------
// greenlake-proxy hash-key

const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

async function hashKeyCli(args: string[], stdin: string | undefined): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, 'hash-key', ...args], { env: { PATH: process.env.PATH ?? '' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(stdin);
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}

t.test('hash-key prints the keyHash line for a key on stdin, and that line lets the key in', async (t) => {
  const key = 'team-ci-key-5d1f0c7e9a2b4c6d';
  const res = await hashKeyCli([], `${key}\n`);
  t.equal(res.code, 0, res.stderr);
  t.equal(res.stdout, `keyHash: ${hashKey(key)}\n`, 'one trailing newline is not part of the key');
  t.notMatch(res.stdout + res.stderr, new RegExp(key), 'the key itself is not echoed');

  const emu = await emulator(t);
  const keyHash = /^keyHash: (\S+)$/m.exec(res.stdout)?.[1];
  const gw = await proxy(t, configFor(emu, { inbound: { apiKeys: [{ name: 'ci', keyHash, clients: ['team'] }] } }));
  t.equal((await call(client(t), gw.url + VOLUMES, { headers: { 'x-api-key': key } })).status, 200);
});

t.test('hash-key --generate prints a random key and its hash; no or empty input exits 2', async (t) => {
  const generated = await hashKeyCli(['--generate'], undefined);
  t.equal(generated.code, 0);
  const [, key, keyHash] = /^key: (\S+)\nkeyHash: (\S+)\n$/.exec(generated.stdout) ?? [];
  t.ok(key !== undefined && key.length >= 40, 'a long random key');
  t.equal(keyHash, hashKey(key ?? ''), 'and its hash');
  const again = await hashKeyCli(['--generate'], undefined);
  t.not(again.stdout, generated.stdout, 'a different key each time');

  for (const input of ['', '\n']) {
    const empty = await hashKeyCli([], input);
    t.equal(empty.code, 2, `input ${JSON.stringify(input)}: exit 2`);
    t.match(empty.stderr, /pipe the key on stdin/);
    t.equal(empty.stdout, '');
  }
  const short = await hashKeyCli([], 'short');
  t.equal(short.code, 2, 'a guessable key is refused');
  t.match(short.stderr, /too short/);
});
