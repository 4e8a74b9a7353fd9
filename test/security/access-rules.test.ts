import { createServer } from 'node:http';
import fc from 'fast-check';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import t from 'tap';
import { ConfigError, parseConfig, withReadOnlyRoutes } from '../../src/config/index.ts';
import type { Emulator } from '../../src/emulator/index.ts';
import { hashKey } from '../../src/inbound/index.ts';
import { call, client, configFor, emulator, freePort, proxy, type RunningProxy } from '../helpers/index.ts';
import { rawRequest, type RawAnswer } from './support.ts';

const DEVICES = '/glp/global/devices/v1/devices';
const WRITES = ['POST', 'PUT', 'PATCH', 'DELETE'];
const RO_KEY = 'glproxy_ro-key-0123456789abcdefghijklmnopqrstuvw';
const NARROW_KEY = 'glproxy_narrow-key-0123456789abcdefghijklmnopqrs';
const FULL_KEY = 'glproxy_full-key-0123456789abcdefghijklmnopqrstu';
const SCOPED_KEY = 'glproxy_scoped-key-0123456789abcdefghijklmnopqr';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

type Raw = Record<string, unknown>;

/** configFor's routes, with `rules` merged into the /glp/global route. */
function withGlpRules(emu: Emulator, rules: Raw, overrides: Raw = {}): Raw {
  const base = configFor(emu, overrides);
  const routes = (base['routes'] as Raw[]).map((route) => (route['prefix'] === '/glp/global' ? { ...route, ...rules } : route));
  return { ...base, routes };
}

function logLines(gw: RunningProxy, message: string): Raw[] {
  return gw.logs.map((line) => JSON.parse(line) as Raw).filter((line) => line['msg'] === message);
}

function bodyOf(answer: RawAnswer): Raw {
  return JSON.parse(answer.body) as Raw;
}

/** Sends `target` byte for byte (no client normalises it) and reads the answer. */
function raw(gw: RunningProxy, method: string, target: string, headers: string[] = []): Promise<RawAnswer> {
  return rawRequest(gw.url, `${method} ${target} HTTP/1.1`, method === 'GET' || method === 'HEAD' ? headers : [...headers, 'Content-Length: 0']);
}

t.test('a read-only route: POST, PUT, PATCH and DELETE get 403 GREENLAKE_PROXY_READ_ONLY, reach no one and fetch no token; GET, HEAD and OPTIONS pass', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, withGlpRules(emu, { readOnly: true }));
  for (const method of WRITES) {
    const answer = await raw(gw, method, `${DEVICES}/abc?x=1`);
    t.equal(answer.status, 403, `${method} is refused`);
    const body = bodyOf(answer);
    t.equal(body['httpStatusCode'], 403);
    t.equal(body['errorCode'], 'GREENLAKE_PROXY_READ_ONLY');
    t.equal(body['message'], `route /glp/global is read-only: ${method} /devices/v1/devices/abc is refused (only GET, HEAD, OPTIONS pass)`);
    t.match(answer.head, new RegExp(`x-request-id: ${String(body['debugId'])}`, 'i'), 'debugId is the X-Request-Id');
    t.same(body['errorDetails'], [{ type: 'access', refusedBy: 'routes[/glp/global].readOnly' }]);
  }
  t.equal(emu.apiRequestCount, 0, 'nothing reached the upstream');
  t.equal(emu.tokenRequestCount, 0, 'and no token was fetched for it');

  const http = client(t);
  for (const method of ['GET', 'HEAD', 'OPTIONS']) t.equal((await call(http, `${gw.url}/glp/global/echo`, { method })).status, 200, `${method} passes`);
  t.same(emu.apiRequests.map((r) => r.method), ['GET', 'HEAD', 'OPTIONS'], 'and was forwarded');
  const post = await call(http, `${gw.url}/com/us-west/echo`, { method: 'POST', body: '{}' });
  t.equal(post.status, 200, 'another route without rules still takes a POST');

  const refusals = logLines(gw, 'request').filter((line) => line['status'] === 403);
  t.equal(refusals.length, 4, 'each refusal has its request line');
  t.same(refusals.map((line) => line['refusedBy']), Array(4).fill('routes[/glp/global].readOnly'), 'naming the rule that refused');
  t.same(refusals.map((line) => line['method']), WRITES, 'and what was refused');
  t.notOk(logLines(gw, 'request').some((line) => line['status'] !== 403 && 'refusedBy' in line), 'requests that passed name no rule');
});

t.test('the local token endpoint keeps answering on a read-only route; the stand-in it gives reads and cannot write', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, withGlpRules(emu, { readOnly: true }));
  const http = client(t);
  const answer = await call(http, `${gw.url}/glp/global/as/token.oauth2`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials&client_id=agent&client_secret=x' });
  t.equal(answer.status, 200, 'POST to the token path is answered by the proxy');
  const standIn = answer.json<{ access_token: string }>().access_token;
  const auth = { authorization: `Bearer ${standIn}` };
  t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: auth })).status, 200, 'a GET with it is forwarded');
  const write = await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  t.equal(write.status, 403);
  t.equal(write.json().errorCode, 'GREENLAKE_PROXY_READ_ONLY');
  t.equal(emu.apiRequestCount, 1);
  t.equal(emu.tokenRequestCount, 1, 'one real token, for the GET');

  const closed = await proxy(t, withGlpRules(emu, { readOnly: true }, { inbound: { localTokens: { enabled: false } } }));
  const forwarded = await call(http, `${closed.url}/glp/global/as/token.oauth2`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' });
  t.equal(forwarded.status, 403, 'with localTokens off, a token path is just a POST: refused on a read-only route');
});

t.test('allow rules match the path within the route byte for byte: encodings, case, trailing slashes, ;params, // and queries never slip past', async (t) => {
  const emu = await emulator(t);
  const allow = [{ methods: ['GET'], paths: ['/devices/v1/devices', '/devices/v1/devices/*', '/audit-log/v1/**', '/**/tags'] }];
  const gw = await proxy(t, withGlpRules(emu, { allow }));
  const passes = [
    '/devices/v1/devices',
    '/devices/v1/devices?limit=5&filter=x%20eq%20%27y%27',
    '/devices/v1/devices/abc',
    '/devices/v1/devices/P07595-B21%2BMXQ1140XVX',
    '/devices/v1/devices/abc;v=1',
    '/audit-log/v1',
    '/audit-log/v1/',
    '/audit-log/v1/logs/abc/detail',
    '/audit-log/v1/x%2Fy',
    '/tags',
    '/locations/v1/locations/tags',
  ];
  for (const path of passes) {
    const before = emu.apiRequestCount;
    const answer = await raw(gw, 'GET', `/glp/global${path}`);
    t.not(answer.status, 403, `${path} is permitted`);
    t.equal(emu.apiRequestCount, before + 1, `${path} is forwarded`);
    t.equal(emu.apiRequests.at(-1)?.rawUrl, path, `${path} arrives as sent`);
  }
  const refused: Array<[string, string, number?]> = [
    ['GET', '/devices/v1/devices/x%2Fy'],
    ['GET', '/devices/v1/devices/x%2fy'],
    ['GET', '/devices/v1/devices/x%252Fy'],
    ['GET', '/devices/v1/devices/x%5Cy'],
    ['GET', '/devices/v1/devices/x\\y'],
    ['GET', '/devices/v1/devices/x%EF%BC%8Fy'],
    ['GET', '/devices/v1/devices%2Fabc'],
    ['GET', '/devices/v1/devices%2F..%2Fsubscriptions', 400],
    ['GET', '/devices/v1/devices/%2e%2e', 400],
    ['GET', '/DEVICES/v1/devices'],
    ['GET', '/devices/V1/devices/abc'],
    ['GET', '/devic%65s/v1/devices'],
    ['GET', '/devices/v1/devices/'],
    ['GET', '/devices/v1/devices;x=1'],
    ['GET', '/devices/v1/devices;/abc'],
    ['GET', '/devices//v1/devices'],
    ['GET', '/devices/v1//devices/abc'],
    ['GET', '//devices/v1/devices', 400],
    ['GET', '/devices/v1/devices/abc/more'],
    ['GET', '/devices/v1/devices%3F'],
    ['GET', '/subscriptions/v1/subscriptions?next=/devices/v1/devices'],
    ['GET', '/subscriptions/v1/subscriptions?/devices/v1/devices/abc'],
    ['GET', '/subscriptions/v1/subscriptions#/devices/v1/devices', 400],
    ['GET', '/audit-log/v1x'],
    ['GET', '/audit-log/v1%2Flogs'],
    ['GET', '/locations/v1/tags/x'],
    ['GET', ''],
    ['POST', '/devices/v1/devices'],
    ['HEAD', '/devices/v1/devices'],
    ['DELETE', '/devices/v1/devices/abc'],
  ];
  for (const [method, path, status = 403] of refused) {
    const answer = await raw(gw, method, `/glp/global${path}`);
    t.equal(answer.status, status, `${method} ${path} is refused with ${status}`);
    if (status === 403 && method !== 'HEAD') t.equal(bodyOf(answer)['errorCode'], 'GREENLAKE_PROXY_NOT_ALLOWED');
  }
  t.equal(emu.apiRequestCount, passes.length, 'none of the refused requests reached the upstream');
  const line = logLines(gw, 'request').find((l) => l['method'] === 'DELETE');
  t.equal(line?.['refusedBy'], 'routes[/glp/global].allow');
  const message = bodyOf(await raw(gw, 'DELETE', `/glp/global/devices/v1/devices/abc`))['message'];
  t.equal(message, "route /glp/global's allow rules do not permit DELETE /devices/v1/devices/abc");
});

t.test('per-key rules: readOnly and allow on inbound.apiKeys[], a request must pass the route AND the key, and every refusal names its rule', async (t) => {
  const emu = await emulator(t);
  const routeAllow = [{ paths: ['/devices/v1/**', '/subscriptions/v1/**'] }];
  const gw = await proxy(
    t,
    withGlpRules(
      emu,
      { allow: routeAllow },
      {
        inbound: {
          apiKeys: [
            { name: 'ro', keyHash: hashKey(RO_KEY), clients: ['team'], readOnly: true },
            { name: 'narrow', keyHash: hashKey(NARROW_KEY), clients: ['team'], allow: [{ methods: ['GET', 'DELETE'], paths: ['/devices/v1/**'] }] },
            { name: 'full', keyHash: hashKey(FULL_KEY), clients: ['team'] },
            { name: 'scoped', keyHash: hashKey(SCOPED_KEY), clients: ['team'], routes: ['/glp/global'], methods: ['GET'] },
          ],
        },
      },
    ),
  );
  const cases: Array<[string, string, string, number, string?]> = [
    [FULL_KEY, 'POST', '/devices/v1/devices', 202],
    [FULL_KEY, 'GET', '/subscriptions/v1/subscriptions', 200],
    [FULL_KEY, 'GET', '/audit-log/v1/logs', 403, 'routes[/glp/global].allow'],
    [RO_KEY, 'GET', '/devices/v1/devices', 200],
    [RO_KEY, 'POST', '/devices/v1/devices', 403, 'inbound.apiKeys[ro].readOnly'],
    [RO_KEY, 'POST', '/audit-log/v1/logs', 403, 'routes[/glp/global].allow'],
    [NARROW_KEY, 'GET', '/devices/v1/devices', 200],
    [NARROW_KEY, 'GET', '/subscriptions/v1/subscriptions', 403, 'inbound.apiKeys[narrow].allow'],
    [NARROW_KEY, 'PATCH', '/devices/v1/devices', 403, 'inbound.apiKeys[narrow].allow'],
    [NARROW_KEY, 'GET', '/audit-log/v1/logs', 403, 'routes[/glp/global].allow'],
    [RO_KEY, 'POST', '/com/us-west/echo', 403, 'inbound.apiKeys[ro].readOnly'],
    [SCOPED_KEY, 'GET', '/devices/v1/devices', 200],
    [SCOPED_KEY, 'GET', '/com/us-west/echo', 403, 'inbound.apiKeys[scoped].routes'],
    [SCOPED_KEY, 'POST', '/devices/v1/devices', 403, 'inbound.apiKeys[scoped].methods'],
  ];
  const http = client(t);
  for (const [key, method, path, status, refusedBy] of cases) {
    const url = path.startsWith('/com/') ? `${gw.url}${path}` : `${gw.url}/glp/global${path}`;
    const answer = await call(http, url, { method, headers: { 'x-api-key': key, 'content-type': 'application/json' }, ...(method === 'GET' ? {} : { body: '{}' }) });
    t.equal(answer.status, status, `${method} ${path}: ${status}`);
    if (refusedBy !== undefined) t.same(answer.json()['errorDetails'], [{ type: 'access', refusedBy }], `refused by ${refusedBy}`);
  }
  t.equal(emu.apiRequestCount, cases.filter((c) => c[3] !== 403).length, 'only the permitted requests were forwarded');
  const ro = await call(http, `${gw.url}${DEVICES}/abc`, { method: 'DELETE', headers: { 'x-api-key': RO_KEY } });
  t.equal(ro.json()['message'], 'key:ro is read-only: DELETE /devices/v1/devices/abc on route /glp/global is refused (only GET, HEAD, OPTIONS pass)');
  const narrow = await call(http, `${gw.url}/glp/global/subscriptions/v1/subscriptions`, { headers: { 'x-api-key': NARROW_KEY } });
  t.equal(narrow.json()['message'], "key:narrow's allow rules do not permit GET /subscriptions/v1/subscriptions on route /glp/global");
  const lines = logLines(gw, 'request').filter((l) => l['refusedBy'] === 'inbound.apiKeys[narrow].allow');
  t.ok(lines.length >= 2 && lines.every((l) => l['who'] === 'key:narrow'), 'the log line says who and which rule refused');
});

t.test("a read-only key's stand-in is read-only; after a reload that changes the key's rules, its old stand-in is void and a new one carries the new rules", async (t) => {
  const emu = await emulator(t);
  const keyed = (key: Raw) => configFor(emu, { inbound: { apiKeys: [{ name: 'agent', keyHash: hashKey(RO_KEY), clients: ['team'], ...key }] } });
  const gw = await proxy(t, keyed({ readOnly: true }));
  const http = client(t);
  const standIn = async (): Promise<string> => {
    const answer = await call(http, `${gw.url}/glp/global/as/token.oauth2`, { method: 'POST', headers: FORM, body: `grant_type=client_credentials&client_id=mcp&client_secret=${RO_KEY}` });
    t.equal(answer.status, 200, 'the key gets a stand-in');
    return answer.json<{ access_token: string }>().access_token;
  };
  const first = await standIn();
  const auth = (token: string) => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: auth(first) })).status, 200, 'it reads');
  const write = await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: auth(first), body: '{}' });
  t.equal(write.status, 403, 'it cannot write');
  t.same(write.json()['errorDetails'], [{ type: 'access', refusedBy: 'inbound.apiKeys[agent].readOnly' }]);

  const wider = await gw.gateway.reload(parseConfig(keyed({ allow: [{ methods: ['GET', 'POST'], paths: ['/devices/v1/devices'] }] }), {}, 'test'));
  t.same(wider.needRestart, [], 'rules reload without a restart');
  t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: auth(first) })).status, 401, 'the stand-in from before the change is void');
  const second = await standIn();
  t.equal((await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: auth(second), body: '{}' })).status, 202, 'a new one carries the new rules');
  const elsewhere = await call(http, `${gw.url}/glp/global/subscriptions/v1/subscriptions`, { headers: auth(second) });
  t.equal(elsewhere.json()['errorCode'], 'GREENLAKE_PROXY_NOT_ALLOWED', 'and only them');

  await gw.gateway.reload(parseConfig(keyed({ readOnly: true }), {}, 'test'));
  t.equal((await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: auth(second), body: '{}' })).status, 401, 'narrowed again: the wider stand-in is void');
  t.equal(emu.requestCount('/devices/v1/devices', 'POST'), 1, 'one POST reached the upstream in all');
});

t.test('routes reload with their rules (SIGHUP), and withReadOnlyRoutes makes every route read-only, for exec to force', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/dscc/us1/echo`, { method: 'DELETE' })).status, 200, 'a route without rules forwards a DELETE');
  const readOnly = withReadOnlyRoutes(parseConfig(configFor(emu), {}, 'test'));
  t.ok(readOnly.routes.every((route) => route.readOnly), 'every route is read-only');
  t.ok(Object.isFrozen(readOnly.routes[0]), 'still frozen data');
  const result = await gw.gateway.reload(readOnly);
  t.same(result.needRestart, []);
  for (const prefix of ['/dscc/us1', '/com/us-west', '/glp/global']) {
    const answer = await call(http, `${gw.url}${prefix}/echo`, { method: 'DELETE' });
    t.equal(answer.status, 403, `${prefix}: the next DELETE is refused`);
    t.equal(answer.json()['message'], `route ${prefix} is read-only: DELETE /echo is refused (only GET, HEAD, OPTIONS pass)`);
  }
  t.equal((await call(http, `${gw.url}/dscc/us1/echo`)).status, 200, 'GET still passes');
  await gw.gateway.reload(parseConfig(configFor(emu), {}, 'test'));
  t.equal((await call(http, `${gw.url}/dscc/us1/echo`, { method: 'DELETE' })).status, 200, 'rules removed by reload: writes pass again');
});

t.test('per-JWT rules: inbound.jwt.access narrows what a claim value grants; other values keep their rights', async (t) => {
  const emu = await emulator(t);
  const agent = { clientId: 'agent-id', clientSecret: 'agent-secret-0123456789abcdef', sub: 'mcp@example.com' };
  const ops = { clientId: 'ops-id', clientSecret: 'ops-secret-0123456789abcdefgh', sub: 'ops@example.com' };
  const idp = await emulator(t, { clients: [agent, ops] });
  const jwt = {
    issuer: idp.url,
    audience: 'external_api',
    jwksUrl: idp.jwksUrl,
    claim: 'client_id',
    clients: { 'agent-id': ['team'], 'ops-id': ['team'] },
    access: { 'agent-id': { readOnly: true, allow: [{ paths: ['/devices/v1/**'] }] } },
  };
  const gw = await proxy(t, configFor(emu, { inbound: { jwt } }));
  const http = client(t);
  const tokenOf = async (who: { clientId: string; clientSecret: string }): Promise<string> => {
    const res = await call(http, idp.tokenUrl, { method: 'POST', headers: FORM, body: `grant_type=client_credentials&client_id=${who.clientId}&client_secret=${who.clientSecret}` });
    return res.json<{ access_token: string }>().access_token;
  };
  const agentAuth = { authorization: `Bearer ${await tokenOf(agent)}`, 'content-type': 'application/json' };
  const opsAuth = { authorization: `Bearer ${await tokenOf(ops)}`, 'content-type': 'application/json' };
  t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: agentAuth })).status, 200, 'the agent reads devices');
  const write = await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: agentAuth, body: '{}' });
  t.equal(write.status, 403);
  t.equal(write.json()['message'], 'jwt:mcp@example.com (client_id agent-id) is read-only: POST /devices/v1/devices on route /glp/global is refused (only GET, HEAD, OPTIONS pass)');
  t.same(write.json()['errorDetails'], [{ type: 'access', refusedBy: 'inbound.jwt.access[agent-id].readOnly' }]);
  const outside = await call(http, `${gw.url}/glp/global/subscriptions/v1/subscriptions`, { headers: agentAuth });
  t.equal(outside.json()['errorCode'], 'GREENLAKE_PROXY_NOT_ALLOWED', 'outside its allow rules');
  t.equal((await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: opsAuth, body: '{}' })).status, 202, 'another claim value writes');
  t.equal(emu.apiRequestCount, 2);
  const line = logLines(gw, 'request').find((l) => l['refusedBy'] === 'inbound.jwt.access[agent-id].readOnly');
  t.equal(line?.['who'], 'jwt:mcp@example.com', 'the log names who and the rule');
});

t.test('config: rules are checked at load, each problem named by its key', async (t) => {
  const problems = (raw: Raw): readonly string[] => {
    try {
      parseConfig(raw, {}, 'test');
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems.map((line) => line.replace(/^test: /, ''));
      throw error;
    }
  };
  const base = { clients: [{ name: 'team', clientId: 'id', clientSecret: 's' }] };
  const route = (rules: Raw) => ({ ...base, routes: [{ prefix: '/glp/global' }, { prefix: '/lab', upstream: 'https://lab.example.com' }, { prefix: '/dscc/us1', ...rules }] });
  const paths = (...list: string[]) => route({ allow: [{ methods: ['GET'], paths: ['/ok/**', ...list] }] });
  const cases: Array<[string, string]> = [
    ['devices', 'must start with / (a path within the route, after its prefix)'],
    ['/devices?limit=1', 'must not contain ? or #: the query is never matched, and # never reaches the proxy'],
    ['/devices/', 'must not end with / (use /** for everything below a path)'],
    ['/devices//v1', 'must not contain empty segments (//)'],
    ['/devices/../x', 'must not contain . or .. segments'],
    ['/devices/%2e%2E/x', 'must not contain . or .. segments'],
    ['/dev*', 'a * stands for a whole segment (* one segment, ** any number): it cannot be part of one'],
    ['/***', 'a * stands for a whole segment (* one segment, ** any number): it cannot be part of one'],
    ['/a%2Fb', 'must not contain an encoded /, \\ or % (%2F, %5C, %25): an upstream may decode it'],
    ['/a%zz', 'has a malformed percent-encoding'],
    ['/a b', "segments may contain only A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) + , ; = : @ and percent-encodings"],
  ];
  for (const [pattern, message] of cases) t.same(problems(paths(pattern)), [`routes[2].allow[0].paths[1]: ${message}`], pattern);
  t.same(problems(route({ allow: [] })), ['routes[2].allow: must not be empty (leave it out instead)']);
  t.same(problems(route({ allow: [{ methods: ['GET'], paths: [] }] })), ['routes[2].allow[0].paths: must not be empty (leave it out instead)']);
  t.same(problems(route({ allow: [{ methods: ['TRACE'], paths: ['/x'] }] })), ['routes[2].allow[0].methods[0]: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']);
  t.same(problems(route({ allow: [{ path: '/x', paths: ['/x'] }] })), ['routes[2].allow[0].path: unknown key']);
  t.same(problems(route({ readOnly: 'yes' })), ['routes[2].readOnly: expected true or false, got a string']);
  t.same(problems(route({ readOnly: true, allow: [{ methods: ['GET'], paths: ['/a'] }, { methods: ['POST', 'DELETE'], paths: ['/b'] }] })), [
    'routes[2].allow[1].methods: readOnly lets only GET, HEAD, OPTIONS through: this rule can never apply',
  ]);
  const keyed = { ...base, inbound: { apiKeys: [{ name: 'ci', keyHash: hashKey(RO_KEY), clients: ['team'], allow: [{ paths: ['/', 'x'] }] }] } };
  t.same(problems(keyed), ['inbound.apiKeys[0].allow[0].paths[1]: must start with / (a path within the route, after its prefix)']);
  const jwt = { issuer: 'https://idp.example.com', audience: 'a', jwksUrl: 'https://idp.example.com/jwks', clients: { agents: ['team'] } };
  t.same(problems({ ...base, inbound: { jwt: { ...jwt, access: { agents: { allow: [{ paths: ['/x*'] }] } } } } }), [
    'inbound.jwt.access.agents.allow[0].paths[0]: a * stands for a whole segment (* one segment, ** any number): it cannot be part of one',
  ]);
  t.same(problems({ ...base, inbound: { jwt: { ...jwt, access: { admins: { readOnly: true } } } } }), [
    'inbound.jwt.access.admins: is not a claim value of inbound.jwt.clients: its rules would narrow nothing',
  ]);
  t.same(problems(route({ readOnly: true, allow: [{ paths: ['/', '/**', '/a/*/b/**', '/servers/P07595-B21%2BMXQ1140XVX', "/x;y=1:@!$&'()+,="] }] })), [], 'valid patterns load');
});

t.test('property: a path is forwarded under a literal pattern only when it is that pattern byte for byte (the query aside)', async (t) => {
  const emu = await emulator(t);
  const literal = '/devices/v1/devices';
  const gw = await proxy(t, withGlpRules(emu, { allow: [{ paths: [literal] }] }));
  const segment = fc.constantFrom('devices', 'DEVICES', 'Devices', 'devic%65s', 'devices%2F', '%64evices', 'devices;', 'devices;x', 'v1', 'V1', 'v%31', '', 'x', '%2F', '%2f', '%252F', '%5C', 'devices%3F', 'devices%23', '%20', 'devices ');
  const path = fc.array(segment, { minLength: 0, maxLength: 5 }).map((segments) => `/${segments.join('/')}`);
  const query = fc.constantFrom('', '?', '?x=1', `?p=${literal}`, `?${literal}`);
  await fc.assert(
    fc.asyncProperty(fc.oneof(path, fc.constant(literal)), query, async (p, q) => {
      if (p.includes(' ')) return; // not a request target
      const before = emu.apiRequestCount;
      await raw(gw, 'GET', `/glp/global${p}${q}`);
      const forwarded = emu.apiRequestCount > before;
      return forwarded === (p === literal);
    }),
    { numRuns: 300 },
  );
  t.pass('held for every generated path');
});

t.test("a JWT holding several claim values: each value's rules cover only the clients it maps, so one value's rights never lift another's read-only", async (t) => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] };
  const idp = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks)));
  await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => idp.close(() => resolve())));
  const issuer = 'https://idp.example.com';
  const jwksUrl = `http://127.0.0.1:${(idp.address() as { port: number }).port}/jwks`;
  const emu = await emulator(t);
  const base = configFor(emu);
  const team = (base['clients'] as Raw[])[0];
  const gw = await proxy(t, {
    ...base,
    clients: [team, { ...team, name: 'other' }],
    routes: [{ prefix: '/glp/global', upstream: emu.url }, { prefix: '/lab', upstream: emu.url, client: 'other' }],
    inbound: { jwt: { issuer, audience: 'proxy', jwksUrl, clients: { agents: ['team'], storage: ['other'] }, access: { agents: { readOnly: true } } } },
  });
  const tokenFor = (groups: string[]) =>
    new SignJWT({ groups }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer(issuer).setAudience('proxy').setSubject('both@example.com').setExpirationTime('5m').sign(privateKey);
  const http = client(t);
  const post = async (token: string, path: string) => (await call(http, `${gw.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' })).status;
  const both = await tokenFor(['agents', 'storage']);
  t.equal(await post(both, '/lab/echo'), 200, "storage's client takes a write");
  t.equal(await post(both, '/glp/global/echo'), 403, "agents' client stays read-only, storage's rights notwithstanding");
  t.equal(await post(await tokenFor(['storage']), '/glp/global/echo'), 403, 'outside the scope altogether');
  t.equal(emu.apiRequestCount, 1);
});

t.test("a route on a port of its own keeps its rules there: the path matched is everything after the port's /", async (t) => {
  const emu = await emulator(t);
  const port = await freePort();
  const gw = await proxy(t, configFor(emu, { routes: [{ port, upstream: emu.url, allow: [{ methods: ['GET'], paths: ['/echo/**'] }] }] }));
  const http = client(t);
  const portUrl = gw.gateway.portUrls.get(`port:${port}`) ?? '';
  t.equal((await call(http, `${portUrl}/echo/a`)).status, 200, 'a permitted GET is forwarded');
  const refused = await call(http, `${portUrl}/echo/a`, { method: 'DELETE' });
  t.equal(refused.status, 403);
  t.equal(refused.json()['message'], `route port:${port}'s allow rules do not permit DELETE /echo/a`);
  t.same(refused.json()['errorDetails'], [{ type: 'access', refusedBy: `routes[port:${port}].allow` }]);
  t.equal((await call(http, `${portUrl}/other`)).status, 403, 'a path outside the rules is refused');
  t.equal(emu.apiRequestCount, 1);
});

t.test('property: under /devices/v1/devices/*, a forwarded request names one segment that no decoding (once, twice, Unicode folding) turns into more', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, withGlpRules(emu, { allow: [{ paths: ['/devices/v1/devices/*'] }] }));
  const looseDecode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const asUpstreamsMayRead = (segment: string): string => looseDecode(looseDecode(segment)).normalize('NFKC');
  const clean = ['a', 'Z9', ';', '=', '%2B', '%41', '-'];
  const tricky = ['%2F', '%2f', '%25', '2F', '%5C', '%5c', '\\', '%EF%BC%8F', '%EF%BC%BC', '.', '%2e', '%252F'];
  const segment = fc.array(fc.constantFrom(...clean, ...tricky), { minLength: 0, maxLength: 4 }).map((parts) => parts.join(''));
  await fc.assert(
    fc.asyncProperty(segment, async (seg) => {
      const before = emu.apiRequestCount;
      await raw(gw, 'GET', `/glp/global/devices/v1/devices/${seg}`);
      const forwarded = emu.apiRequestCount > before;
      const read = asUpstreamsMayRead(seg);
      const oneSegment = seg !== '' && !/[/\\]/.test(read) && read !== '.' && read !== '..';
      const plainlyClean = seg !== '' && /^(?:[A-Za-z0-9;=-]|%2B|%41)+$/.test(seg);
      return (!forwarded || oneSegment) && (!plainlyClean || forwarded);
    }),
    { numRuns: 250 },
  );
  t.pass('held for every generated segment');
});
