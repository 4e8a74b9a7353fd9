import t from 'tap';
import type { Emulator } from '../src/emulator/index.ts';
import { hashKey } from '../src/inbound/index.ts';
import { redisFor, redisSkip } from './helpers/redis.ts';
import { assertNoCredentialsIn, call, client, configFor, emulator, freePort, proxy, tokensSeenBy, type Answer, type RunningProxy, type Tap } from './helpers/index.ts';

/** As documented (README): a stand-in is recognisable by its prefix. */
const STAND_IN_PREFIX = 'glproxy_standin_';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CLIENT_CREDENTIALS = 'grant_type=client_credentials&client_id=any-tool&client_secret=anything';
const WORKSPACE = '0123456789abcdef0123456789abcdef';
const DEVICES = '/glp/global/devices/v1/devices';
const TOOL_KEY = 'glproxy_tool-key-0123456789abcdefghijklmnopqrs';
const READER_KEY = 'glproxy_reader-key-0123456789abcdefghijklmnopq';

function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

function tokenRequest(http: ReturnType<typeof client>, url: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return call(http, url, { method: 'POST', headers: { ...FORM, ...options.headers }, body: options.body ?? CLIENT_CREDENTIALS });
}

function assertStandIn(t: Tap, answer: Answer, expiresIn = 900): string {
  t.equal(answer.status, 200, 'a token answer');
  const body = answer.json<{ access_token: string; token_type: string; expires_in: number }>();
  t.strictSame(Object.keys(body).sort(), ['access_token', 'expires_in', 'token_type'], "GreenLake's token answer shape");
  t.equal(body.token_type, 'Bearer');
  t.equal(body.expires_in, expiresIn);
  t.match(body.access_token, new RegExp(`^${STAND_IN_PREFIX}[\\w.-]{43,}$`), 'a recognisable stand-in');
  t.equal(answer.headers['cache-control'], 'no-store', 'never cached (RFC 6749 §5.1)');
  return body.access_token;
}

async function gateway(t: Tap, overrides: Record<string, unknown> = {}): Promise<{ emu: Emulator; gw: RunningProxy }> {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, overrides));
  return { emu, gw };
}

t.test('tools insisting on OAuth needed the real secret: every token path on a route answers a stand-in, and it works like no token', async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  const standIns = [
    assertStandIn(t, await tokenRequest(http, `${gw.url}/glp/global/as/token.oauth2`)),
    assertStandIn(t, await tokenRequest(http, `${gw.url}/glp/global/authorization/v2/oauth2/${WORKSPACE}/token`)),
    assertStandIn(t, await tokenRequest(http, `${gw.url}/com/us-west/as/token.oauth2`, { headers: { authorization: basic('any-tool', 'any secret') }, body: 'grant_type=client_credentials' })),
    assertStandIn(t, await tokenRequest(http, `${gw.url}/-/oauth/token`)),
  ];
  t.equal(new Set(standIns).size, 4, 'each one fresh and random');
  t.equal(emu.tokenRequests.length, 0, 'none of them reached GreenLake');
  t.equal(emu.apiRequests.length, 0);

  const devices = await call(http, `${gw.url}${DEVICES}`, { headers: { authorization: `Bearer ${standIns[0]}` } });
  t.equal(devices.status, 200, 'a request carrying a stand-in is forwarded');
  const seen = tokensSeenBy(emu);
  t.equal(seen.length, 1);
  t.match(seen[0], /^eyJ/, 'with the real token: the stand-in never leaves the proxy');
  assertNoCredentialsIn(t, gw.logs, standIns);
});

t.test("gl-mcp's token request (its base URL on the proxy) gets a stand-in, and its devices call works", async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  // As gl-mcp's OAuth2Provider sends it: form body with all three parameters, and its origin header.
  const answer = await tokenRequest(http, `${gw.url}/glp/global/authorization/v2/oauth2/${WORKSPACE}/token`, {
    headers: { 'hpe-ai-origin': 'mcp' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'mcp-client', client_secret: 'not-a-real-secret' }).toString(),
  });
  const standIn = assertStandIn(t, answer);
  const devices = await call(http, `${gw.url}${DEVICES}?limit=10`, { headers: { authorization: `Bearer ${standIn}`, accept: 'application/json' } });
  t.equal(devices.status, 200);
  t.equal(emu.apiRequests[0]?.rawUrl, '/devices/v1/devices?limit=10');
});

t.test('a port route answers the same token paths at /', async (t) => {
  const emu = await emulator(t);
  const port = await freePort();
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/glp/global', upstream: emu.url }, { port, upstream: emu.url }] }));
  const portUrl = gw.gateway.portUrls.get(`port:${port}`) as string;
  const http = client(t);
  const standIn = assertStandIn(t, await tokenRequest(http, `${portUrl}/as/token.oauth2`));
  assertStandIn(t, await tokenRequest(http, `${portUrl}/authorization/v2/oauth2/${WORKSPACE}/token`));
  t.equal((await call(http, `${portUrl}/devices/v1/devices`, { headers: { authorization: `Bearer ${standIn}` } })).status, 200);
  t.equal(emu.tokenRequests.length, 1, "only the proxy's own fetch");
});

t.test('token requests that are not client-credentials form posts get RFC 6749 errors', async (t) => {
  const { emu, gw } = await gateway(t);
  const http = client(t);
  const url = `${gw.url}/glp/global/as/token.oauth2`;
  const expectOAuthError = async (answer: Answer, status: number, error: string, what: string): Promise<void> => {
    t.equal(answer.status, status, what);
    t.equal(answer.json().error, error, what);
    t.type(answer.json().error_description, 'string');
  };
  await expectOAuthError(await call(http, url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"grant_type":"client_credentials"}' }), 400, 'invalid_request', 'JSON body');
  await expectOAuthError(await call(http, url, { method: 'POST', body: CLIENT_CREDENTIALS }), 400, 'invalid_request', 'no content type');
  await expectOAuthError(await tokenRequest(http, url, { body: 'client_id=a&client_secret=b' }), 400, 'invalid_request', 'no grant_type');
  await expectOAuthError(await tokenRequest(http, url, { body: 'grant_type=&client_id=a' }), 400, 'invalid_request', 'an empty grant_type is no grant_type');
  await expectOAuthError(await tokenRequest(http, url, { body: 'grant_type=password&username=a&password=b' }), 400, 'unsupported_grant_type', 'password grant');
  await expectOAuthError(await tokenRequest(http, url, { body: 'grant_type=urn:ietf:params:oauth:grant-type:token-exchange' }), 400, 'unsupported_grant_type', 'token exchange');
  await expectOAuthError(await tokenRequest(http, url, { body: 'grant_type=client_credentials&grant_type=client_credentials' }), 400, 'invalid_request', 'a repeated parameter');
  await expectOAuthError(await tokenRequest(http, url, { headers: { authorization: basic('a', 'b') } }), 400, 'invalid_request', 'Basic and a client_secret in the body: two methods');
  await expectOAuthError(await tokenRequest(http, url, { headers: { authorization: 'Basic !!!' }, body: 'grant_type=client_credentials' }), 400, 'invalid_request', 'malformed Basic');
  const get = await call(http, url);
  await expectOAuthError(get, 405, 'invalid_request', 'GET');
  t.equal(get.headers.allow, 'POST');
  assertStandIn(t, await tokenRequest(http, url, { headers: { 'content-type': 'Application/X-WWW-Form-Urlencoded; charset=UTF-8' } }));
  t.equal(emu.tokenRequests.length + emu.apiRequests.length, 0, 'nothing was forwarded');
});

t.test('localTokens.clients: only the named client ID and secret get a stand-in', async (t) => {
  const { gw } = await gateway(t, { inbound: { localTokens: { clients: [{ clientId: 'postman', clientSecretHash: hashKey('s3cret+with/odd=chars') }] } } });
  const http = client(t);
  const url = `${gw.url}/glp/global/as/token.oauth2`;
  const wrong = await tokenRequest(http, url, { headers: { authorization: basic('postman', 'nope') }, body: 'grant_type=client_credentials' });
  t.equal(wrong.status, 401);
  t.equal(wrong.json().error, 'invalid_client');
  t.match(wrong.headers['www-authenticate'], /^Basic /, 'a client that tried Basic is told the scheme');
  const otherId = await tokenRequest(http, url, { body: `grant_type=client_credentials&client_id=other&client_secret=${encodeURIComponent('s3cret+with/odd=chars')}` });
  t.equal(otherId.status, 401, 'the right secret under another client ID');
  t.equal(otherId.headers['www-authenticate'], undefined);
  assertStandIn(t, await tokenRequest(http, url, { body: `grant_type=client_credentials&client_id=postman&client_secret=${encodeURIComponent('s3cret+with/odd=chars')}` }));
  // RFC 6749 §2.3.1: Basic carries the form-encoded ID and secret.
  assertStandIn(t, await tokenRequest(http, url, { headers: { authorization: basic('postman', encodeURIComponent('s3cret+with/odd=chars')) }, body: 'grant_type=client_credentials' }));
});

async function keyedGateway(t: Tap): Promise<{ emu: Emulator; gw: RunningProxy }> {
  return gateway(t, {
    inbound: {
      apiKeys: [
        { name: 'tool', keyHash: hashKey(TOOL_KEY), clients: ['team'] },
        { name: 'reader', keyHash: hashKey(READER_KEY), clients: ['team'], routes: ['/glp/global'], methods: ['GET'] },
      ],
    },
  });
}

t.test('with inbound API keys, the token endpoint requires one, and the stand-in authenticates as that key', async (t) => {
  const { emu, gw } = await keyedGateway(t);
  const http = client(t);
  const url = `${gw.url}/glp/global/as/token.oauth2`;
  const anyone = await tokenRequest(http, url);
  t.equal(anyone.status, 401, 'any client ID and secret no longer do');
  t.equal(anyone.json().error, 'invalid_client');
  const none = await tokenRequest(http, url, { body: 'grant_type=client_credentials' });
  t.equal(none.json().error, 'invalid_client', 'no credentials at all');

  const byForm = assertStandIn(t, await tokenRequest(http, url, { body: `grant_type=client_credentials&client_id=ansible&client_secret=${TOOL_KEY}` }));
  const byBasic = assertStandIn(t, await tokenRequest(http, url, { headers: { authorization: basic('postman', TOOL_KEY) }, body: 'grant_type=client_credentials' }));
  const byHeader = assertStandIn(t, await tokenRequest(http, `${gw.url}/-/oauth/token`, { headers: { 'x-api-key': TOOL_KEY }, body: 'grant_type=client_credentials' }));
  for (const standIn of [byForm, byBasic, byHeader]) {
    t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: { authorization: `Bearer ${standIn}` } })).status, 200, 'the stand-in authenticates');
  }
  t.ok(tokensSeenBy(emu).every((token) => token.startsWith('eyJ')), 'and is never forwarded');
  t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: { authorization: `Bearer ${STAND_IN_PREFIX}${'A'.repeat(43)}` } })).status, 401, 'an unknown stand-in does not');
  t.equal((await call(http, `${gw.url}${DEVICES}`)).status, 401, 'nor does no token');

  const renewed = await tokenRequest(http, url, { body: `grant_type=client_credentials&client_id=x&client_secret=${byForm}` });
  t.equal(renewed.status, 401, 'a stand-in cannot buy another (it would outlive what it stands for)');
  const renewedByBearer = await tokenRequest(http, url, { headers: { authorization: `Bearer ${byForm}` }, body: 'grant_type=client_credentials' });
  t.equal(renewedByBearer.status, 401);
  const renewedByHeader = await tokenRequest(http, url, { headers: { 'x-api-key': byForm }, body: 'grant_type=client_credentials' });
  for (const refusal of [renewed, renewedByBearer, renewedByHeader]) {
    t.strictSame(
      refusal.json(),
      { error: 'invalid_client', error_description: 'a stand-in token cannot be exchanged for another: present your API key or JWT' },
      'the refusal says a stand-in was presented, and what to present instead',
    );
  }
  assertNoCredentialsIn(t, gw.logs, [TOOL_KEY, byForm, byBasic, byHeader]);
});

t.test("a stand-in never widens its key's rights: the reader key's stand-in has the reader's routes and methods", async (t) => {
  const { emu, gw } = await keyedGateway(t);
  const http = client(t);
  const standIn = assertStandIn(t, await tokenRequest(http, `${gw.url}/glp/global/as/token.oauth2`, { body: `grant_type=client_credentials&client_id=r&client_secret=${READER_KEY}` }));
  const auth = { authorization: `Bearer ${standIn}` };
  t.equal((await call(http, `${gw.url}${DEVICES}`, { headers: auth })).status, 200, 'GET on its route');
  const post = await call(http, `${gw.url}${DEVICES}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  t.equal(post.status, 403, 'POST, which the key may not');
  t.equal(post.json().errorCode, 'GREENLAKE_PROXY_FORBIDDEN');
  const otherRoute = await call(http, `${gw.url}/com/us-west/compute-ops-mgmt/v1/servers`, { headers: auth });
  t.equal(otherRoute.status, 403, 'another route, which the key may not');
  t.equal(emu.apiRequests.length, 1);
});

t.test('localTokens.enabled false: no local token endpoint', async (t) => {
  const { gw } = await gateway(t, { inbound: { localTokens: { enabled: false } } });
  const answer = await tokenRequest(client(t), `${gw.url}/-/oauth/token`);
  t.equal(answer.status, 404);
  t.equal(answer.json().errorCode, 'GREENLAKE_PROXY_ROUTE_NOT_FOUND');
});

t.test('replicas sharing a store accept each other\'s stand-ins; a restart keeps them, a changed key section voids them', { skip: redisSkip }, async (t) => {
  const emu = await emulator(t);
  const { redis } = await redisFor(t);
  const store = { redis: { url: redis.url, encryptionKey: Buffer.alloc(32, 3).toString('base64') } };
  const apiKeys = [{ name: 'tool', keyHash: hashKey(TOOL_KEY), clients: ['team'] }];
  const replica = (keys: unknown[] = apiKeys) => proxy(t, configFor(emu, { store, inbound: { apiKeys: keys } }));
  const [a, b] = [await replica(), await replica()];
  const http = client(t);
  const standIn = assertStandIn(t, await tokenRequest(http, `${a.url}/glp/global/as/token.oauth2`, { body: `grant_type=client_credentials&client_id=x&client_secret=${TOOL_KEY}` }));
  const auth = { authorization: `Bearer ${standIn}` };
  t.equal((await call(http, `${b.url}${DEVICES}`, { headers: auth })).status, 200, 'issued by one replica, accepted by the other');
  await a.gateway.close(0);
  const restarted = await replica();
  t.equal((await call(http, `${restarted.url}${DEVICES}`, { headers: auth })).status, 200, 'a restart with the same configuration keeps it');
  const rekeyed = await replica([{ ...apiKeys[0], routes: ['/com/us-west'] }]);
  t.equal((await call(http, `${rekeyed.url}${DEVICES}`, { headers: auth })).status, 401, 'a replica whose apiKeys differ refuses it');
});
