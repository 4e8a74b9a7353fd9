// The GreenLake emulator, black box through real sockets on 127.0.0.1.
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import t from 'tap';
import { Agent, getGlobalDispatcher } from 'undici';
import type { Dispatcher } from 'undici';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { DEMO_CLIENT, downloadSha256, SAMPLE_SERVER_ID, startEmulator } from '../src/emulator/index.ts';
import type { Emulator, EmulatorClient, EmulatorOptions } from '../src/emulator/index.ts';
import { eventually } from './helpers/index.ts';

const OTHER_CLIENT: EmulatorClient = { clientId: 'other-client', clientSecret: 'other-secret-0123456789', sub: 'other@example.com' };
/** Needs RFC 6749 form-urlencoding inside Basic: `+`, `/`, `:`, `%`, space. */
const ODD_CLIENT: EmulatorClient = { clientId: 'odd:client', clientSecret: 'p+a/s:s%w rd', sub: 'odd@example.com' };
const WORKSPACE_ID = '0123456789abcdef0123456789abcdef';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// A throwaway self-signed P-256 certificate for 127.0.0.1 (test only, valid until 2126).
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgJIkIRjJ18BjtGCbe
HS7eGkk47Q8fj/zexEeQR/8aA7KhRANCAASaRTZYZCJW2ofd1pgi/hq3jNCAl6Jr
TBmQ81/eX2b2Vu/xrKYXow93FSVKyG0dEKnubRkB56piOj5DiUdzhX/r
-----END PRIVATE KEY-----
`;
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBnDCCAUGgAwIBAgIUWwHtZgGXCKKvjPmTsiMHJfwGe38wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyMjAwMjY1NFoYDzIxMjYxMDI5
MDAyNjU0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAASaRTZYZCJW2ofd1pgi/hq3jNCAl6JrTBmQ81/eX2b2Vu/xrKYXow93
FSVKyG0dEKnubRkB56piOj5DiUdzhX/ro28wbTAdBgNVHQ4EFgQUk4SfpP7h1hiD
qRUCJo5Gk6bIQRwwHwYDVR0jBBgwFoAUk4SfpP7h1hiDqRUCJo5Gk6bIQRwwDwYD
VR0TAQH/BAUwAwEB/zAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3QwCgYIKoZI
zj0EAwIDSQAwRgIhAOP3AibODJt5dGCd4ilUTpXzAlwDc7dyn/YcEJm0CHGKAiEA
wCLWr0ULQ3qYk+9jODXyXeCR65x4OZtKwdtrPBvdzhg=
-----END CERTIFICATE-----
`;

interface Teardown {
  teardown(fn: () => unknown): void;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function start(t: Teardown, options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator(options);
  t.teardown(() => emu.close());
  return emu;
}

/** One request with the path sent exactly as written (no URL normalisation). */
async function send(
  origin: string,
  path: string,
  options: { method?: Dispatcher.HttpMethod; headers?: Record<string, string>; body?: string | Buffer | Readable; signal?: AbortSignal; dispatcher?: Dispatcher } = {},
): Promise<Answer> {
  const { dispatcher = getGlobalDispatcher(), method = 'GET', ...rest } = options;
  const response = await dispatcher.request({ origin, path, method, ...rest });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

function json(answer: Answer): Record<string, unknown> {
  return JSON.parse(answer.text) as Record<string, unknown>;
}

function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Answer> {
  const { origin, pathname } = new URL(url);
  return send(origin, pathname, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(form).toString(), ...(signal ? { signal } : {}) });
}

function clientCredentials(client: EmulatorClient = DEMO_CLIENT): Record<string, string> {
  return { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret };
}

/** RFC 6749 §2.3.1: form-urlencode id and secret, then base64. */
function basicHeader(client: EmulatorClient): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(client.clientId)}:${encode(client.clientSecret)}`).toString('base64')}`;
}

async function tokenFor(emu: Emulator, client: EmulatorClient = DEMO_CLIENT): Promise<string> {
  const answer = await postForm(emu.tokenUrl, clientCredentials(client));
  if (answer.status !== 200) throw new Error(`token request answered ${answer.status}: ${answer.text}`);
  return String(json(answer)['access_token']);
}

function get(emu: Emulator, path: string, token: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  return send(emu.url, path, { headers: token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` } });
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function assertGreenLakeError(t: Tap, answer: Answer, status: number, errorCode: string): void {
  t.equal(answer.status, status, `status ${status}`);
  const body = json(answer);
  t.equal(body['httpStatusCode'], status);
  t.equal(body['errorCode'], errorCode);
  t.type(body['message'], 'string');
  t.match(body['debugId'], UUID);
}

/** The type of a subtest's `t`. */
type Tap = Parameters<Parameters<typeof t.test>[0]>[0];

t.test('client_secret_post: a JWT that verifies against the published JWKS, with the documented claims', async (t) => {
  const emu = await start(t);
  const answer = await postForm(emu.tokenUrl, clientCredentials());
  t.equal(answer.status, 200);
  t.equal(answer.headers['cache-control'], 'no-store');
  const body = json(answer);
  t.equal(body['token_type'], 'Bearer');
  t.equal(body['expires_in'], 7199);
  const token = String(body['access_token']);

  const { payload } = await jwtVerify(token, createRemoteJWKSet(new URL(emu.jwksUrl)), { algorithms: ['RS256'] });
  t.match(decodeProtectedHeader(token), { alg: 'RS256', kid: String });
  t.match(payload, {
    client_id: 'demo-client',
    iss: emu.url,
    aud: 'external_api',
    sub: 'demo.user@example.com',
    user_ctx: String,
    auth_source: String,
    platform_customer_id: /^[0-9a-f]{32}$/,
    application_instance_id: UUID,
    iat: Number,
    jti: String,
    hpe_token_type: 'api-v1.1',
    hpe_organization_id: /^[0-9a-f]{32}$/,
  });
  t.equal(payload.exp, Number(payload.iat) + 7199, 'exp = iat + lifetime');
  t.ok(Math.abs(Number(payload.iat) - Date.now() / 1000) < 5, 'iat is now');

  const second = await tokenFor(emu);
  t.not(second, token, 'every token is new');
  t.match(emu.tokenRequests, [
    { clientId: 'demo-client', authMethod: 'client_secret_post', status: 200, path: '/as/token.oauth2', at: Number },
    { status: 200 },
  ]);
});

t.test('client_secret_basic: id and secret form-urlencoded inside Basic', async (t) => {
  const emu = await start(t, { clients: [DEMO_CLIENT, ODD_CLIENT], tokenLifetimeSeconds: 900 });
  const answer = await postForm(emu.tokenUrl, { grant_type: 'client_credentials' }, { authorization: basicHeader(ODD_CLIENT) });
  t.equal(answer.status, 200, 'a token is issued');
  t.equal(json(answer)['expires_in'], 900);
  const { payload } = await jwtVerify(String(json(answer)['access_token']), createRemoteJWKSet(new URL(emu.jwksUrl)));
  t.equal(payload['client_id'], 'odd:client');
  t.equal(payload.sub, 'odd@example.com');
  t.equal(payload.exp, Number(payload.iat) + 900);

  const raw = `Basic ${Buffer.from(`${ODD_CLIENT.clientId}:${ODD_CLIENT.clientSecret}`).toString('base64')}`;
  const unencoded = await postForm(emu.tokenUrl, { grant_type: 'client_credentials' }, { authorization: raw });
  t.equal(unencoded.status, 401, 'Basic without form-urlencoding does not authenticate a secret that needs it');
  t.match(emu.tokenRequests, [{ authMethod: 'client_secret_basic', clientId: 'odd:client', status: 200 }, { status: 401 }]);
});

t.test('wrong or unknown credentials: 401 invalid_client', async (t) => {
  const emu = await start(t);
  const wrongSecret = await postForm(emu.tokenUrl, { ...clientCredentials(), client_secret: 'nope' });
  t.equal(wrongSecret.status, 401);
  t.match(json(wrongSecret), { error: 'invalid_client', error_description: String });
  const unknown = await postForm(emu.tokenUrl, { grant_type: 'client_credentials' }, { authorization: basicHeader(OTHER_CLIENT) });
  t.equal(unknown.status, 401);
  t.equal(json(unknown)['error'], 'invalid_client');
  t.match(unknown.headers['www-authenticate'], /^Basic /);
  t.match(emu.tokenRequests, [
    { clientId: 'demo-client', authMethod: 'client_secret_post', status: 401 },
    { clientId: 'other-client', authMethod: 'client_secret_basic', status: 401 },
  ]);
});

t.test('bad token requests: unsupported_grant_type and invalid_request', async (t) => {
  const emu = await start(t);
  const password = await postForm(emu.tokenUrl, { ...clientCredentials(), grant_type: 'password' });
  t.equal(password.status, 400);
  t.equal(json(password)['error'], 'unsupported_grant_type');

  const cases: Array<[string, Promise<Answer>]> = [
    ['no grant_type', postForm(emu.tokenUrl, { client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret })],
    ['no client_secret', postForm(emu.tokenUrl, { grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId })],
    ['two auth methods', postForm(emu.tokenUrl, clientCredentials(), { authorization: basicHeader(DEMO_CLIENT) })],
    ['JSON body', send(emu.url, '/as/token.oauth2', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(clientCredentials()) })],
    ['repeated parameter', send(emu.url, '/as/token.oauth2', { method: 'POST', headers: FORM, body: `${new URLSearchParams(clientCredentials())}&grant_type=client_credentials` })],
  ];
  for (const [name, request] of cases) {
    const answer = await request;
    t.equal(answer.status, 400, name);
    t.equal(json(answer)['error'], 'invalid_request', name);
  }
  t.equal(emu.tokenRequests.length, 6, 'failures are journalled');
  t.match(emu.tokenRequests[3], { authMethod: 'client_secret_basic' });
});

t.test('workspace token URL, and RFC 8693 token exchange for another workspace', async (t) => {
  const emu = await start(t);
  t.equal(emu.workspaceTokenUrl(WORKSPACE_ID), `${emu.url}/authorization/v2/oauth2/${WORKSPACE_ID}/token`);
  const answer = await postForm(emu.workspaceTokenUrl(WORKSPACE_ID), clientCredentials());
  t.equal(answer.status, 200);
  const token = String(json(answer)['access_token']);
  const jwks = createRemoteJWKSet(new URL(emu.jwksUrl));
  t.match((await jwtVerify(token, jwks)).payload, { hpe_organization_id: WORKSPACE_ID, platform_customer_id: WORKSPACE_ID });
  t.equal((await get(emu, '/devices/v1/devices', token)).status, 200, 'the workspace token works on the APIs');
  t.equal(emu.tokenRequests[0]?.path, `/authorization/v2/oauth2/${WORKSPACE_ID}/token`);

  const hyphenated = await postForm(emu.workspaceTokenUrl('0123-4567'), clientCredentials());
  t.equal(hyphenated.status, 400);

  const tenant = 'fedcba9876543210fedcba9876543210';
  const exchange = {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  };
  const exchanged = await postForm(emu.workspaceTokenUrl(tenant), exchange);
  t.equal(exchanged.status, 200, 'the exchange issues a token');
  t.equal(json(exchanged)['issued_token_type'], 'urn:ietf:params:oauth:token-type:access_token');
  t.match((await jwtVerify(String(json(exchanged)['access_token']), jwks)).payload, {
    client_id: 'demo-client',
    hpe_organization_id: tenant,
    platform_customer_id: tenant,
  });
  const garbage = await postForm(emu.workspaceTokenUrl(tenant), { ...exchange, subject_token: 'not-a-token' });
  t.equal(garbage.status, 400);
  t.equal(json(garbage)['error'], 'invalid_request');
  const onClassic = await postForm(emu.tokenUrl, exchange);
  t.equal(json(onClassic)['error'], 'unsupported_grant_type', 'no token exchange on the classic endpoint');
});

t.test('API without a valid bearer token: 401 in each family\'s shape, journalled', async (t) => {
  const emu = await start(t);
  const stranger = await start(t);
  const foreign = await tokenFor(stranger);
  assertGreenLakeError(t, await get(emu, '/devices/v1/devices', undefined), 401, 'HPE_GL_ERROR_UNAUTHORIZED');
  assertGreenLakeError(t, await get(emu, '/compute-ops-mgmt/v1/servers', 'garbage'), 401, 'HPE-GL-COMPUTE_OPS-0401001');
  const dscc = await get(emu, '/api/v1/volumes', foreign);
  t.equal(dscc.status, 401);
  t.match(json(dscc), { error: String, errorCode: 'UNAUTHORIZED', traceId: /^[0-9a-f]{32}$/ }, 'Data Services answers in its own shape');
  const basic = await get(emu, '/echo/x', undefined, { authorization: basicHeader(DEMO_CLIENT) });
  assertGreenLakeError(t, basic, 401, 'HPE_GL_ERROR_UNAUTHORIZED');
  t.equal(emu.apiRequests.length, 4);
  t.ok(emu.apiRequests.every((record) => record.status === 401 && record.tokenClientId === undefined));
});

t.test('expired tokens get 401', async (t) => {
  const emu = await start(t);
  const longLived = await tokenFor(emu);
  emu.setTokenLifetime(1);
  const shortLived = await postForm(emu.tokenUrl, clientCredentials());
  t.equal(json(shortLived)['expires_in'], 1);
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const expired = await get(emu, '/audit-log/v1/logs', String(json(shortLived)['access_token']));
  assertGreenLakeError(t, expired, 401, 'HPE_GL_ERROR_UNAUTHORIZED');
  t.match(json(expired)['message'], /expired/i);
  t.equal((await get(emu, '/audit-log/v1/logs', longLived)).status, 200, 'a token issued before keeps its lifetime');
  t.throws(() => emu.setTokenLifetime(0));
});

t.test('revokeAllTokens: every token issued so far gets 401, new ones work', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  t.equal((await get(emu, '/devices/v1/devices', token)).status, 200);
  emu.revokeAllTokens();
  assertGreenLakeError(t, await get(emu, '/devices/v1/devices', token), 401, 'HPE_GL_ERROR_UNAUTHORIZED');
  t.equal((await get(emu, '/devices/v1/devices', await tokenFor(emu))).status, 200);
});

t.test('sample endpoints: list shapes and paging per family', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  const list = async (path: string) => {
    const answer = await get(emu, path, token);
    t.equal(answer.status, 200, path);
    return json(answer) as { offset: number; count: number; total: number; items: Array<Record<string, unknown>> };
  };
  const servers = await list('/compute-ops-mgmt/v1/servers');
  t.match(servers, { offset: 0, count: 25, total: 25 });
  t.equal(servers.items.length, 25);
  t.ok(servers.items.every((server) => String(server['id']).includes('+')), 'COM ids contain +');
  t.match(await list('/compute-ops-mgmt/v1/servers?offset=20&limit=10'), { offset: 20, count: 5, total: 25 });
  t.match(await list('/api/v1/storage-systems'), { pageOffset: 0, pageLimit: 100, total: 5, items: [{ id: String, model: String }] });
  const volumes = await list('/api/v1/volumes?offset=10&limit=7');
  t.strictSame(Object.keys(volumes).sort(), ['items', 'pageLimit', 'pageOffset', 'requestUri', 'total'], 'DSCC v1 list envelope');
  t.match(volumes, { pageOffset: 10, pageLimit: 7, total: 30, requestUri: '/api/v1/volumes?offset=10&limit=7' });
  t.equal(volumes.items.length, 7);
  const firstVolumes = await list('/api/v1/volumes?limit=10');
  t.not(volumes.items[0]?.['id'], firstVolumes.items[0]?.['id'], 'offset moves the page');
  t.match(await list('/devices/v1/devices?limit=3'), { count: 3, total: 12, items: [{ serialNumber: String }] });
  t.match(await list('/audit-log/v1/logs'), { offset: 0, total: 5, remainingRecords: false });
  const filter = encodeURIComponent(`name eq 'esx-01.lab.example.com' and hardware/powerState eq 'ON'`);
  t.match(await list(`/compute-ops-mgmt/v1/servers?filter=${filter}&limit=2`), { count: 1, items: [{ id: SAMPLE_SERVER_ID }] });
  assertGreenLakeError(t, await get(emu, '/compute-ops-mgmt/v1/servers?limit=0', token), 400, 'HPE-GL-COMPUTE_OPS-0400001');
  assertGreenLakeError(t, await get(emu, '/compute-ops-mgmt/v1/servers?offset=-1', token), 400, 'HPE-GL-COMPUTE_OPS-0400001');
  assertGreenLakeError(t, await get(emu, '/compute-ops-mgmt/v1/nothing', token), 404, 'HPE_GL_ERROR_NOT_FOUND');
});

t.test('COM server by id: + arrives as %2B', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  t.equal(SAMPLE_SERVER_ID, 'P07595-B21+MXQ1140XVX');
  const found = await get(emu, '/compute-ops-mgmt/v1/servers/P07595-B21%2BMXQ1140XVX', token);
  t.equal(found.status, 200);
  t.match(json(found), {
    id: SAMPLE_SERVER_ID,
    type: 'compute-ops-mgmt/server',
    resourceUri: `/compute-ops-mgmt/v1/servers/${SAMPLE_SERVER_ID}`,
    serverGeneration: 'GEN_10',
    hardware: { serialNumber: 'MXQ1140XVX', productId: 'P07595-B21', powerState: 'ON', health: { summary: 'OK' }, bmc: { ip: String } },
    state: { managed: true, subscriptionState: 'SUBSCRIBED' },
    host: { osName: String },
  });
  const unknown = await get(emu, '/compute-ops-mgmt/v1/servers/P07595-B21%2BNOPE', token);
  assertGreenLakeError(t, unknown, 404, 'HPE-GL-COMPUTE_OPS-0404001');
});

t.test('POST devices: 202 with a relative Location to an async operation that reaches SUCCEEDED', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  const accepted = await send(emu.url, '/devices/v1/devices', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ compute: [{ serialNumber: 'MXQ1', partNumber: 'P07595-B21' }] }),
  });
  t.equal(accepted.status, 202);
  const location = String(accepted.headers['location']);
  t.match(location, /^\/devices\/v1\/async-operations\/[^/]+$/, 'relative Location');
  t.match(json(accepted), { code: 202, status: String, transactionId: location.split('/').pop() });
  const first = json(await get(emu, location, token));
  t.match(first, { id: location.split('/').pop(), status: 'RUNNING', progressPercent: 50, resultType: 'devices' });
  const second = json(await get(emu, location, token));
  t.match(second, { status: 'SUCCEEDED', progressPercent: 100, endedAt: String });
  t.equal((await get(emu, '/devices/v1/async-operations/unknown', token)).status, 404);
});

t.test('echo: the raw URL byte for byte, headers and body as received', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  const rawPath = `/echo/P07595-B21%2BMXQ1140XVX/it's?filter=name%20eq%20'a+b'%20and%20x%2By&empty=&x=%7E`;
  const body = '{"not": "parsed"';
  const answer = await send(emu.url, rawPath, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-custom': 'Value' },
    body,
  });
  t.equal(answer.status, 200);
  t.match(json(answer), {
    method: 'PATCH',
    rawUrl: rawPath,
    headers: { 'x-custom': 'Value', authorization: `Bearer ${token}` },
    bodyBytes: Buffer.byteLength(body),
    bodySha256: sha256(body),
  });
  t.match(emu.apiRequests[0], {
    method: 'PATCH',
    rawUrl: rawPath,
    host: new URL(emu.url).host,
    headers: { 'x-custom': 'Value' },
    bodyBytes: Buffer.byteLength(body),
    tokenClientId: 'demo-client',
    status: 200,
  });
  const strayPercent = '/echo/100%zz?x=%zz';
  const stray = await get(emu, strayPercent, token);
  t.equal(stray.status, 200, 'a stray % still reaches echo');
  t.equal(json(stray)['rawUrl'], strayPercent);
});

t.test('upload and download: streamed, hashed, a few MiB', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  const chunks = Array.from({ length: 48 }, () => randomBytes(64 * 1024));
  const expected = createHash('sha256');
  for (const chunk of chunks) expected.update(chunk);
  const uploaded = await send(emu.url, '/upload', {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: Readable.from(chunks),
  });
  const uploadSha = expected.digest('hex');
  t.same(json(uploaded), { bytes: 48 * 64 * 1024, sha256: uploadSha });
  t.match(emu.apiRequests[0], { bodyBytes: 48 * 64 * 1024, bodySha256: uploadSha });

  const bytes = 3 * 1024 * 1024 + 17;
  const response = await getGlobalDispatcher().request({ origin: emu.url, path: `/download?bytes=${bytes}`, method: 'GET', headers: { authorization: `Bearer ${token}` } });
  t.equal(response.statusCode, 200);
  t.equal(response.headers['content-length'], String(bytes));
  t.equal(response.headers['content-type'], 'application/octet-stream');
  const hash = createHash('sha256');
  let received = 0;
  let index = 0;
  let patternHolds = true;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    for (const byte of chunk) patternHolds &&= byte === index++ % 251;
    hash.update(chunk);
    received += chunk.length;
  }
  t.equal(received, bytes);
  t.ok(patternHolds, 'byte i is i mod 251');
  t.equal(hash.digest('hex'), downloadSha256(bytes));
  assertGreenLakeError(t, await get(emu, '/download?bytes=lots', token), 400, 'HPE_GL_ERROR_BAD_REQUEST');
});

t.test('token faults', async (t) => {
  const emu = await start(t);

  t.test('status with Retry-After, for `times` requests', async (t) => {
    emu.setTokenFault({ kind: 'status', status: 503, retryAfterSeconds: 3, times: 2 });
    const first = await postForm(emu.tokenUrl, clientCredentials());
    const second = await postForm(emu.tokenUrl, clientCredentials());
    const third = await postForm(emu.tokenUrl, clientCredentials());
    t.same([first.status, second.status, third.status], [503, 503, 200]);
    t.equal(first.headers['retry-after'], '3');
    t.equal(json(first)['error'], 'server_error');
    t.same(emu.tokenRequests.slice(-3).map((record) => record.status), [503, 503, 200]);
  });

  t.test('status with a body of our own', async (t) => {
    emu.setTokenFault({ kind: 'status', status: 429, body: 'slow down', times: 1 });
    const answer = await postForm(emu.tokenUrl, clientCredentials());
    t.equal(answer.status, 429);
    t.equal(answer.text, 'slow down');
  });

  t.test('malformed: 200 that is no token answer', async (t) => {
    emu.setTokenFault({ kind: 'malformed', times: 1 });
    const answer = await postForm(emu.tokenUrl, clientCredentials());
    t.equal(answer.status, 200);
    t.throws(() => JSON.parse(answer.text));
    t.equal((await postForm(emu.tokenUrl, clientCredentials())).status, 200);
    t.ok(json(await postForm(emu.tokenUrl, clientCredentials()))['access_token'], 'cleared after times');
  });

  t.test('no-expires-in: a valid token whose JWT still has exp', async (t) => {
    emu.setTokenFault({ kind: 'no-expires-in' });
    const body = json(await postForm(emu.tokenUrl, clientCredentials()));
    emu.setTokenFault(undefined);
    t.notOk('expires_in' in body);
    const { payload } = await jwtVerify(String(body['access_token']), createRemoteJWKSet(new URL(emu.jwksUrl)));
    t.equal(payload.exp, Number(payload.iat) + 7199);
    t.ok('expires_in' in json(await postForm(emu.tokenUrl, clientCredentials())), 'cleared');
  });

  t.test('exp-differs: expires_in says the lifetime while the JWT exp says otherwise', async (t) => {
    emu.setTokenFault({ kind: 'exp-differs', expSeconds: 120, times: 1 });
    const body = json(await postForm(emu.tokenUrl, clientCredentials()));
    t.equal(body['expires_in'], 7199);
    const { payload } = await jwtVerify(String(body['access_token']), createRemoteJWKSet(new URL(emu.jwksUrl)));
    t.equal(payload.exp, Number(payload.iat) + 120);
    const next = json(await postForm(emu.tokenUrl, clientCredentials()));
    const { payload: after } = await jwtVerify(String(next['access_token']), createRemoteJWKSet(new URL(emu.jwksUrl)));
    t.equal(after.exp, Number(after.iat) + 7199, 'cleared after times');
  });

  t.test('delay: a correct answer, late', async (t) => {
    emu.setTokenFault({ kind: 'delay', ms: 300, times: 1 });
    const started = Date.now();
    const answer = await postForm(emu.tokenUrl, clientCredentials());
    t.equal(answer.status, 200);
    t.ok(Date.now() - started >= 290, 'waited');
  });

  t.test('hang: no answer at all, journalled with status 0', async (t) => {
    emu.resetJournal();
    emu.setTokenFault({ kind: 'hang', times: 1 });
    await t.rejects(postForm(emu.tokenUrl, clientCredentials(), {}, AbortSignal.timeout(300)));
    t.match(emu.tokenRequests, [{ clientId: 'demo-client', status: 0 }]);
    t.equal((await postForm(emu.tokenUrl, clientCredentials())).status, 200);
  });
});

t.test('close() ends hanging token requests and keep-alive connections at once', async (t) => {
  const emu = await startEmulator();
  emu.setTokenFault({ kind: 'hang' });
  const hanging = postForm(emu.tokenUrl, clientCredentials());
  hanging.catch(() => undefined);
  await eventually('the hanging request arrived', () => emu.tokenRequests.length === 1);
  // The request hangs for ever: close() ending at all shows it ended the request (no elapsed-time window).
  await emu.close();
  await t.rejects(hanging, 'the hanging request fails');
});

t.test('API faults: delay and status', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  emu.setApiFault({ kind: 'status', status: 503, times: 1 });
  assertGreenLakeError(t, await get(emu, '/devices/v1/devices', token), 503, 'HPE_GL_ERROR_SERVICE_UNAVAILABLE');
  t.equal((await get(emu, '/devices/v1/devices', token)).status, 200, 'only `times` requests');

  emu.setApiFault({ kind: 'delay', ms: 300 });
  const started = Date.now();
  t.equal((await get(emu, '/devices/v1/devices', token)).status, 200);
  t.ok(Date.now() - started >= 290, 'delayed');
  emu.setApiFault(undefined);
  const again = Date.now();
  await get(emu, '/devices/v1/devices', token);
  t.ok(Date.now() - again < 250, 'cleared');
});

t.test('rate limit per client: ratelimit-* headers, then 429 without Retry-After unless asked', async (t) => {
  const emu = await start(t, { clients: [DEMO_CLIENT, OTHER_CLIENT] });
  const token = await tokenFor(emu);
  emu.setRateLimit({ limit: 2, windowSeconds: 60 });
  const first = await get(emu, '/audit-log/v1/logs', token);
  t.match(first.headers, { 'ratelimit-limit': '2', 'ratelimit-remaining': '1', 'ratelimit-reset': /^\d+$/ });
  const reset = Number(first.headers['ratelimit-reset']);
  t.ok(reset > 0 && reset <= 60, 'seconds to the end of the window');
  t.equal((await get(emu, '/audit-log/v1/logs', token)).headers['ratelimit-remaining'], '0');
  const limited = await get(emu, '/audit-log/v1/logs', token);
  assertGreenLakeError(t, limited, 429, 'HPE_GL_ERROR_TOO_MANY_REQUESTS');
  t.match(limited.headers, { 'ratelimit-remaining': '0' });
  t.equal(limited.headers['retry-after'], undefined, 'HPE documents no Retry-After');
  emu.setRetryAfterOn429(true);
  t.match((await get(emu, '/audit-log/v1/logs', token)).headers, { 'retry-after': /^\d+$/ }, 'unless a test asks for it');
  emu.setRetryAfterOn429(false);
  t.equal((await get(emu, '/audit-log/v1/logs', await tokenFor(emu, OTHER_CLIENT))).status, 200, 'each client its own budget');
  emu.setRateLimit(undefined);
  const free = await get(emu, '/audit-log/v1/logs', token);
  t.equal(free.status, 200);
  t.equal(free.headers['ratelimit-limit'], undefined);
});

t.test('redirect and status helpers', async (t) => {
  const emu = await start(t);
  const token = await tokenFor(emu);
  const relative = await get(emu, '/redirect?to=%2Fdevices%2Fv1%2Fdevices%3Flimit%3D1&status=307', token);
  t.equal(relative.status, 307);
  t.equal(relative.headers['location'], '/devices/v1/devices?limit=1');
  const absolute = await get(emu, '/redirect?to=%2Fecho%2Fhere&absolute=1', token);
  t.equal(absolute.status, 302);
  t.equal(absolute.headers['location'], `${emu.url}/echo/here`, 'absolute on our own origin, from Host');
  const elsewhere = await get(emu, `/redirect?to=${encodeURIComponent('https://example.com/x')}&status=301`, token);
  t.equal(elsewhere.headers['location'], 'https://example.com/x');
  t.equal((await get(emu, '/redirect?to=%2Fx&status=200', token)).status, 400);

  const teapot = await get(emu, '/status/418', token);
  assertGreenLakeError(t, teapot, 418, 'HPE_GL_ERROR_I_M_A_TEAPOT');
  t.equal(teapot.headers['x-emulator'], '1');
  const unavailable = await get(emu, '/status/503?retryAfter=2', token);
  t.equal(unavailable.headers['retry-after'], '2');
  t.equal((await get(emu, '/status/503', undefined)).status, 401, 'helpers need a bearer token too');
});

t.test('control over HTTP: journal, faults, revoke, reset', async (t) => {
  const emu = await start(t);
  const control = (path: string, body?: unknown) =>
    send(emu.url, path, {
      method: body === undefined && path.endsWith('journal') ? 'GET' : 'POST',
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  const token = await tokenFor(emu);
  await get(emu, '/devices/v1/devices', token);
  const journal = json(await control('/_emulator/journal')) as { tokenRequests: unknown[]; apiRequests: Array<{ headers: Record<string, string> }> };
  t.equal(journal.tokenRequests.length, 1);
  t.equal(journal.apiRequests[0]?.headers['authorization'], '[redacted]', 'no bearer tokens over HTTP');
  t.equal(emu.apiRequests[0]?.headers['authorization'], `Bearer ${token}`, 'the in-process journal keeps them');

  t.equal((await control('/_emulator/faults', { token: { kind: 'status', status: 500, times: 1 }, tokenLifetimeSeconds: 60 })).status, 204);
  t.equal((await postForm(emu.tokenUrl, clientCredentials())).status, 500);
  t.equal(json(await postForm(emu.tokenUrl, clientCredentials()))['expires_in'], 60);
  t.equal((await control('/_emulator/faults', { api: { kind: 'status', status: 502 }, rateLimit: { limit: 5, windowSeconds: 10 } })).status, 204);
  const faulted = await get(emu, '/devices/v1/devices', token);
  t.equal(faulted.status, 502);
  t.equal(faulted.headers['ratelimit-limit'], '5');
  t.equal((await control('/_emulator/faults', { api: null })).status, 204);
  t.equal((await get(emu, '/devices/v1/devices', token)).status, 200);
  t.equal((await control('/_emulator/faults', { token: { kind: 'explode' } })).status, 400, 'invalid faults are refused');
  t.equal((await control('/_emulator/faults', 'nonsense')).status, 400);

  t.equal((await control('/_emulator/revoke', {})).status, 204);
  t.equal((await get(emu, '/devices/v1/devices', token)).status, 401);

  t.equal((await control('/_emulator/reset', {})).status, 204);
  t.same(json(await control('/_emulator/journal')), { tokenRequests: [], apiRequests: [] });
  const fresh = await postForm(emu.tokenUrl, clientCredentials());
  t.equal(json(fresh)['expires_in'], 7199, 'lifetime back to its start value');
  const unlimited = await get(emu, '/devices/v1/devices', String(json(fresh)['access_token']));
  t.equal(unlimited.headers['ratelimit-limit'], undefined, 'rate limit cleared');
});

t.test('https with the given certificate', async (t) => {
  const emu = await start(t, { tls: { key: TLS_KEY, cert: TLS_CERT } });
  t.match(emu.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const dispatcher = new Agent({ connect: { ca: TLS_CERT } });
  t.teardown(() => dispatcher.close());
  const answer = await send(emu.url, '/as/token.oauth2', { method: 'POST', headers: FORM, body: new URLSearchParams(clientCredentials()).toString(), dispatcher });
  t.equal(answer.status, 200);
  const servers = await send(emu.url, '/compute-ops-mgmt/v1/servers?limit=1', { headers: { authorization: `Bearer ${String(json(answer)['access_token'])}` }, dispatcher });
  t.equal(servers.status, 200);
});
