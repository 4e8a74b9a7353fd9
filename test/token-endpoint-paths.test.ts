import t from 'tap';
import type { Emulator } from '../src/emulator/index.ts';
import { hashKey } from '../src/inbound/index.ts';
import { call, client, configFor, DEMO_SECRET, emulator, proxy, type RunningProxy, type Tap } from './helpers/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const CALLER_BASIC = `Basic ${Buffer.from('intruder:wrong-secret').toString('base64')}`;
const API_KEY = 'glproxy_token-path-key-0123456789abcdefghijk';

function proxyTokenFetches(emu: Emulator): number {
  return emu.tokenRequests.filter((r) => r.clientId === DEMO_CLIENT.clientId).length;
}

/** A token endpoint deeper in a route (`/e/x/as/token.oauth2` reaches the upstream's `/echo/x/as/token.oauth2`): not the local endpoint's, so forwarded. */
async function echoRoute(t: Tap, inbound: Record<string, unknown> = {}): Promise<{ emu: Emulator; gw: RunningProxy }> {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/glp/global', upstream: emu.url }, { prefix: '/e', upstream: `${emu.url}/echo` }], inbound }));
  return { emu, gw };
}

for (const path of ['/x/as/token.oauth2', '/x/authorization/v2/oauth2/0123abcd/token']) {
  t.test(`a 401 from a token endpoint path (${path}) was taken as a verdict on the proxy's token and the caller's credentials replayed`, async (t) => {
    const { emu, gw } = await echoRoute(t);
    const http = client(t);
    t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status, 200, 'the proxy has its token');
    t.equal(proxyTokenFetches(emu), 1);

    const answer = await call(http, `${gw.url}/e${path}`, { method: 'POST', headers: { ...FORM, authorization: CALLER_BASIC }, body: 'grant_type=client_credentials' });
    t.equal(answer.status, 401, "the upstream's 401 reaches the caller");
    const sent = emu.apiRequests.filter((r) => r.rawUrl === `/echo${path}`);
    t.equal(sent.length, 1, 'sent once: never replayed');
    t.equal(proxyTokenFetches(emu), 1, 'the proxy token was neither dropped nor fetched again');
    t.equal(sent[0]?.headers.authorization, CALLER_BASIC, "the caller's HTTP Basic credentials pass, and the proxy's bearer is not added");
    t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status, 200);
    t.equal(proxyTokenFetches(emu), 1, 'the same token still serves');
  });
}

t.test("the proxy's bearer leaked to a token endpoint the caller addresses: a caller's Bearer is not passed either", async (t) => {
  const { emu, gw } = await echoRoute(t);
  const http = client(t);
  await call(http, `${gw.url}/e/x/as/token.oauth2`, { method: 'POST', headers: { ...FORM, authorization: 'Bearer glproxy_standin_abc' }, body: 'grant_type=client_credentials&client_id=a&client_secret=b' });
  await call(http, `${gw.url}/e/x/AS/Token.OAuth2`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials&client_id=a&client_secret=b' });
  await call(http, `${gw.url}/e/x/as/token%2Eoauth2`, { method: 'POST', headers: FORM, body: 'grant_type=client_credentials' });
  const sent = emu.apiRequests.filter((r) => r.rawUrl.startsWith('/echo/x/'));
  t.equal(sent.length, 3);
  t.same(sent.map((r) => r.headers.authorization), [undefined, undefined, undefined], 'no Authorization at all: not ours, not a Bearer of the caller (case and percent-encoding variants too)');
  t.equal(emu.tokenRequests.length, 0, 'no token was even fetched for them');
});

t.test('localTokens.enabled false: token requests pass through with the caller\'s own credentials, once', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { localTokens: { enabled: false } } }));
  const http = client(t);
  const basic = `Basic ${Buffer.from(`${DEMO_CLIENT.clientId}:${DEMO_SECRET}`).toString('base64')}`;
  const good = await call(http, `${gw.url}/glp/global/as/token.oauth2`, { method: 'POST', headers: { ...FORM, authorization: basic }, body: 'grant_type=client_credentials' });
  t.equal(good.status, 200, "GreenLake's (the emulator's) own answer");
  t.match(good.json().access_token, /^eyJ/, 'a real token, from upstream');
  t.equal(emu.tokenRequests.at(-1)?.authMethod, 'client_secret_basic', 'the Basic header reached the token endpoint');

  const bad = await call(http, `${gw.url}/glp/global/as/token.oauth2`, { method: 'POST', headers: { ...FORM, authorization: CALLER_BASIC }, body: 'grant_type=client_credentials' });
  t.equal(bad.status, 401);
  t.equal(bad.json().error, 'invalid_client', "the token endpoint's OAuth error, unchanged");
  t.equal(emu.tokenRequests.filter((r) => r.clientId === 'intruder').length, 1, 'never replayed');
  t.equal(proxyTokenFetches(emu), 1, 'only the caller\'s good request: the proxy fetched nothing for itself');
});

t.test('with inbound authentication, a forwarded token request needs it: unauthenticated ones are refused and nothing is forwarded', async (t) => {
  const { emu, gw } = await echoRoute(t, { apiKeys: [{ name: 'tool', keyHash: hashKey(API_KEY), clients: ['team'] }] });
  const http = client(t);
  const refused = await call(http, `${gw.url}/e/x/as/token.oauth2`, { method: 'POST', headers: { ...FORM, authorization: CALLER_BASIC }, body: 'grant_type=client_credentials' });
  t.equal(refused.status, 401);
  t.equal(refused.json().errorCode, 'GREENLAKE_PROXY_UNAUTHENTICATED');
  t.equal(emu.apiRequests.length, 0, 'nothing forwarded');

  const allowed = await call(http, `${gw.url}/e/x/as/token.oauth2`, { method: 'POST', headers: { ...FORM, authorization: CALLER_BASIC, 'x-api-key': API_KEY }, body: 'grant_type=client_credentials' });
  t.equal(allowed.status, 401, "forwarded: the upstream's 401");
  t.equal(emu.apiRequests.length, 1);
  t.equal(emu.apiRequests[0]?.headers['x-api-key'], undefined, 'the API key for the proxy never goes upstream');
  t.equal(emu.apiRequests[0]?.headers.authorization, CALLER_BASIC);
});
