// The emulator's resource engine, black box on 127.0.0.1: paging, filters, async chains, tasks,
// jobs, published rate limits, token lifetimes and the bounded journal, as HPE documents them.
import t from 'tap';
import { decodeJwt } from 'jose';
import { DEMO_CLIENT, SAMPLE_SERVER_ID } from '../src/emulator/index.ts';
import type { Emulator, EmulatorOptions } from '../src/emulator/index.ts';
import { call, client, emulator, type Answer, type Tap } from './helpers/index.ts';

const WORKSPACE_ID = '0123456789abcdef0123456789abcdef';
const JSON_TYPE = { 'content-type': 'application/json' };

interface Api {
  emu: Emulator;
  get(path: string, headers?: Record<string, string>): Promise<Answer>;
  send(method: string, path: string, body?: unknown): Promise<Answer>;
  /** The body sent as it is, not JSON-encoded. */
  sendText(method: string, path: string, body: string): Promise<Answer>;
}

async function tokenAnswer(t: Tap, url: string): Promise<Record<string, unknown>> {
  const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret });
  const answer = await call(client(t), url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  t.equal(answer.status, 200, 'token issued');
  return answer.json();
}

async function api(t: Tap, options: EmulatorOptions = {}): Promise<Api> {
  const emu = await emulator(t, options);
  const token = String((await tokenAnswer(t, emu.tokenUrl))['access_token']);
  const http = client(t);
  const auth = { authorization: `Bearer ${token}` };
  return {
    emu,
    get: (path, headers = {}) => call(http, emu.url + path, { headers: { ...auth, ...headers } }),
    send: (method, path, body) =>
      call(http, emu.url + path, { method, headers: { ...auth, ...JSON_TYPE }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) }),
    sendText: (method, path, body) => call(http, emu.url + path, { method, headers: { ...auth, ...JSON_TYPE }, body }),
  };
}

function items(answer: Answer): Array<Record<string, unknown>> {
  return answer.json<{ items: Array<Record<string, unknown>> }>().items;
}

t.test('paging limits as documented: devices and audit logs up to 2000, users up to 600, COM 1000', async (t) => {
  const { get } = await api(t);
  for (const [path, max] of [['/devices/v1/devices', 2000], ['/audit-log/v1/logs', 2000], ['/identity/v1/users', 600], ['/compute-ops-mgmt/v1/servers', 1000]] as const) {
    t.equal((await get(`${path}?limit=${max}`)).status, 200, `${path} limit=${max}`);
    const over = await get(`${path}?limit=${max + 1}`);
    t.equal(over.status, 400, `${path} limit=${max + 1} is refused`);
    t.match(over.json()['message'], `from 1 to ${max}`, 'the message names the range');
  }
  const page = (await get('/devices/v1/devices?offset=10&limit=5')).json();
  t.match(page, { offset: 10, count: 2, total: 12 }, 'the last page is short');
  t.match((await get('/audit-log/v1/logs?limit=2')).json(), { count: 2, total: 5, remainingRecords: true });
  t.match((await get('/audit-log/v1/logs?offset=4&limit=2')).json(), { count: 1, remainingRecords: false });
});

t.test('filter: eq, and, or, in, contains, not, nested fields, repeated filter parameters', async (t) => {
  const { get } = await api(t);
  const count = async (path: string, filter: string | string[]) => {
    const query = (Array.isArray(filter) ? filter : [filter]).map((f) => `filter=${encodeURIComponent(f)}`).join('&');
    const answer = await get(`${path}?${query}`);
    t.equal(answer.status, 200, filter.toString());
    return answer.json<{ total: number }>().total;
  };
  t.equal(await count('/devices/v1/devices', "deviceType eq 'COMPUTE'"), 3);
  t.equal(await count('/devices/v1/devices', "deviceType eq 'COMPUTE' and region eq 'eu-central'"), 1);
  t.equal(await count('/devices/v1/devices', "deviceType eq 'AP' or deviceType eq 'SWITCH'"), 6);
  t.equal(await count('/devices/v1/devices', "deviceType in ('AP', 'STORAGE')"), 6);
  t.equal(await count('/devices/v1/devices', "not deviceType eq 'AP'"), 9);
  t.equal(await count('/devices/v1/devices', "contains(model, 'aruba')"), 6, 'contains ignores case');
  t.equal(await count('/compute-ops-mgmt/v1/servers', "hardware/powerState eq 'OFF'"), 3, 'nested fields with /');
  t.equal(await count('/audit-log/v1/logs', ["user/username eq 'demo.user@example.com'", "category in ('User Management', 'API Client')"]), 2, 'every filter parameter holds');
  t.equal(await count('/service-catalog/v1/service-managers', "mspSupported eq 'true'"), 2, "quoted booleans match ('true')");
  t.equal(await count('/audit-log/v1/logs', "createdAt ge '2025-01-23T00:00:00Z'"), 2, 'ge on timestamps');
  t.equal(await count('/identity/v1/users', ''), 6, 'an empty filter matches everything');
  for (const bad of ["deviceType eq", "deviceType like 'x'", "deviceType eq 'x' and", "(deviceType eq 'x'", 'a == 1']) {
    const refused = await get(`/devices/v1/devices?filter=${encodeURIComponent(bad)}`);
    t.equal(refused.status, 400, `refused: ${bad}`);
    t.match(refused.json(), { errorCode: 'HPE_GL_ERROR_BAD_REQUEST', message: /^Invalid filter: / });
  }
});

t.test('wellness pages with an opaque next cursor; the last page has an empty one', async (t) => {
  const { get } = await api(t);
  const seen: unknown[] = [];
  let next: string | undefined;
  let pages = 0;
  do {
    const page = (await get(`/wellness/v2/events?limit=4${next === undefined ? '' : `&next=${next}`}`)).json<{ items: Array<{ id: string }>; next: string; total: number }>();
    seen.push(...page.items.map((item) => item.id));
    next = page.next;
    pages += 1;
  } while (next !== '' && pages < 10);
  t.equal(pages, 2);
  t.equal(new Set(seen).size, 6, 'every event once');
  t.equal((await get('/wellness/v2/events?next=bm9wZQ')).status, 400, 'a cursor it did not issue is refused');
});

t.test('async chain: POST and PATCH devices → 202 → RUNNING → SUCCEEDED; FAILED on the async fault switch', async (t) => {
  const { emu, get, send, sendText } = await api(t);
  const follow = async (answer: Answer) => {
    t.equal(answer.status, 202);
    const location = String(answer.headers['location']);
    t.equal(answer.json()['transactionId'], location.split('/').pop(), 'the body names the operation');
    const states = [];
    for (let i = 0; i < 3; i += 1) states.push((await get(location)).json());
    return states;
  };
  const added = await follow(await send('POST', '/devices/v1/devices', { network: [{ serialNumber: 'SN1', macAddress: '00:11:22:33:44:55' }] }));
  t.match(added.map((state) => state['status']), ['RUNNING', 'SUCCEEDED', 'SUCCEEDED']);
  t.match(added[1], {
    type: String,
    startedAt: String,
    endedAt: String,
    progressPercent: 100,
    suggestedPollingIntervalSeconds: Number,
    timeoutMinutes: Number,
    result: Object,
    resultType: 'devices',
  });
  const [device] = items(await get('/devices/v1/devices?limit=1'));
  emu.setAsyncFault({ kind: 'fail', times: 1 });
  const patched = await follow(await send('PATCH', `/devices/v1/devices?id=${String(device?.['id'])}`, { region: 'eu-central' }));
  t.match(patched.map((state) => state['status']), ['RUNNING', 'FAILED', 'FAILED']);
  t.match(patched[1]?.['result'], { httpStatusCode: 500, errorCode: String });
  t.equal((await get(`/devices/v1/devices/${String(device?.['id'])}`)).json()['region'], 'eu-central', 'the PATCH applied');
  const again = await follow(await send('POST', '/subscriptions/v1/subscriptions', { subscriptions: [{ key: 'KEY1' }] }));
  t.match(again.map((state) => state['status']), ['RUNNING', 'SUCCEEDED', 'SUCCEEDED'], 'the fault was for one operation only');
  t.equal((await send('PATCH', '/devices/v1/devices', { region: 'x' })).status, 400, 'a bulk PATCH needs id parameters');
  t.equal((await send('POST', '/devices/v1/devices', undefined)).status, 202, 'an empty body is an empty object');
  t.equal((await sendText('POST', '/devices/v1/devices', '{oops')).status, 400, 'a body that is not JSON is refused');
});

t.test('Data Services v1: writes answer 202 {taskUri, status, message}; the task reaches SUCCEEDED, or FAILED on the fault', async (t) => {
  const { emu, get, send } = await api(t);
  const [system] = items(await get('/api/v1/storage-systems?limit=1'));
  const systemId = String(system?.['id']);
  const created = await send('POST', `/api/v1/storage-systems/device-type1/${systemId}/volumes`, { name: 'vol-new', sizeMib: 2048, userCpg: 'SSD_r6' });
  t.equal(created.status, 202);
  t.strictSame(Object.keys(created.json()).sort(), ['message', 'status', 'taskUri']);
  const taskUri = String(created.json()['taskUri']);
  t.match(taskUri, /^\/api\/v1\/tasks\/[\w-]+$/);
  t.match((await get(taskUri)).json(), { state: 'RUNNING', progressPercent: 50, resourceUri: taskUri });
  t.match((await get(taskUri)).json(), { state: 'SUCCEEDED', progressPercent: 100, endedAt: String, associatedResources: [{ name: 'vol-new' }] });
  t.match((await get('/api/v1/tasks')).json(), { total: 1, pageOffset: 0, items: [{ resourceUri: taskUri }] });
  const volumes = items(await get(`/api/v1/volumes?filter=${encodeURIComponent("name eq 'vol-new'")}`));
  t.equal(volumes.length, 1, 'the volume exists');
  const volumeId = String(volumes[0]?.['id']);
  t.match((await get(`/api/v1/volumes/${volumeId}`)).json(), { name: 'vol-new', systemId, sizeMiB: 2048 });

  emu.setAsyncFault({ kind: 'fail' });
  const removed = await send('DELETE', `/api/v1/storage-systems/device-type1/${systemId}/volumes/${volumeId}`);
  emu.setAsyncFault(undefined);
  const failedUri = String(removed.json()['taskUri']);
  await get(failedUri);
  t.match((await get(failedUri)).json(), { state: 'FAILED', error: { error: String, errorCode: 'INTERNAL_SERVER_ERROR', traceId: String } });

  const missing = await get('/api/v1/tasks/nope');
  t.equal(missing.status, 404);
  t.strictSame(Object.keys(missing.json()).sort(), ['error', 'errorCode', 'traceId'], 'DSCC error shape');
  t.equal((await send('POST', `/api/v1/storage-systems/device-type1/${systemId}/volumes`, {})).json()['errorCode'], 'BAD_REQUEST');
  t.match((await get('/api/v1/audit-events?limit=2')).json(), { pageLimit: 2, total: 8, items: [{ id: String, message: String, occurredAt: String, state: String, version: 1 }] });
});

t.test('COM: jobs move PENDING → RUNNING → COMPLETE; groups are created, changed and deleted; COM error codes', async (t) => {
  const { get, send } = await api(t);
  const job = await send('POST', '/compute-ops-mgmt/v1/jobs', { jobTemplate: '0cbb2377-1834-488d-840c-d5bf788c34fb', resourceId: SAMPLE_SERVER_ID, resourceType: 'compute-ops-mgmt/server' });
  t.equal(job.status, 201);
  t.match(job.json(), { state: 'PENDING', resource: { id: SAMPLE_SERVER_ID }, resultCode: null });
  const uri = String(job.json()['resourceUri']);
  t.equal(job.headers['location'], uri);
  t.match((await get(uri)).json(), { state: 'RUNNING' });
  t.match((await get(uri)).json(), { state: 'COMPLETE', resultCode: 'SUCCESS' });
  const incomplete = await send('POST', '/compute-ops-mgmt/v1/jobs', { jobTemplate: 'x' });
  t.equal(incomplete.status, 400);
  t.match(incomplete.json(), { errorCode: 'HPE-GL-COMPUTE_OPS-0400001', message: /resourceId/ });

  const group = await send('POST', '/compute-ops-mgmt/v1/groups', { name: 'New group' });
  t.equal(group.status, 201);
  const groupUri = String(group.json()['resourceUri']);
  t.match((await send('PATCH', groupUri, { description: 'changed' })).json(), { name: 'New group', description: 'changed', generation: 2 });
  t.equal((await send('DELETE', groupUri)).status, 204);
  t.equal((await get(groupUri)).json()['errorCode'], 'HPE-GL-COMPUTE_OPS-0404001');
  t.equal((await get('/compute-ops-mgmt/v1/groups')).json()['total'], 2);
});

t.test('credentials: the secret is shown on create and reset only; delete makes it gone', async (t) => {
  const { get, send } = await api(t);
  const created = await send('POST', '/workspaces/v1/credentials', { credentialName: 'ci' });
  t.equal(created.status, 201);
  const secret = String(created.json()['clientSecret']);
  t.ok(secret.length >= 32, 'a secret');
  const id = String(created.json()['id']);
  const listed = (await get('/workspaces/v1/credentials')).json<{ items: Array<Record<string, unknown>>; count: number }>();
  t.equal(listed.count, 3);
  t.ok(listed.items.every((item) => !('clientSecret' in item)), 'no secret in the list');
  const reset = await send('POST', `/workspaces/v1/credentials/${id}/reset`);
  t.equal(reset.status, 200);
  t.not(reset.json()['clientSecret'], secret, 'a new secret');
  t.equal((await send('DELETE', `/workspaces/v1/credentials/${id}`)).status, 204);
  t.equal((await send('POST', `/workspaces/v1/credentials/${id}/reset`)).status, 404);
});

t.test("every request of HPE's Postman collection exists at its method and path", async (t) => {
  const { get, send } = await api(t);
  const firstId = async (path: string) => String(items(await get(path))[0]?.['id']);
  const user = await firstId('/identity/v1/users');
  const tenant = await firstId('/workspaces/v1/msp-tenants');
  const location = await firstId('/locations/v1/locations');
  const manager = await firstId('/service-catalog/v1/service-managers');
  const provision = await firstId('/service-catalog/v1/service-manager-provisions');
  const device = await firstId('/devices/v1/devices');
  const subscription = await firstId('/subscriptions/v1/subscriptions');
  const setting = await firstId('/subscriptions/v1/auto-subscription-settings');
  const log = await firstId('/audit-log/v1/logs');
  const event = await firstId('/wellness/v2/events');
  const supportCase = await firstId('/wellness/v2/support-cases');
  const operation = await firstId('/wellness/v2/async-operations');
  const credential = String((await send('POST', '/workspaces/v1/credentials', { credentialName: 'x' })).json()['id']);
  const cases: Array<[string, string, unknown?, number?]> = [
    ['GET', `/workspaces/v1/workspaces/${WORKSPACE_ID}`],
    ['GET', `/workspaces/v1/workspaces/${WORKSPACE_ID}/contact`],
    ['GET', `/identity/v1/users/${user}`],
    ['PUT', `/identity/v1/users/${user}`, { language: 'en', idleTimeout: 1800 }],
    ['GET', `/identity/v1/users?filter=${encodeURIComponent("username eq 'demo.user@example.com'")}`],
    ['POST', '/identity/v1/users', { email: 'new@example.com', sendWelcomeEmail: true }, 201],
    ['GET', '/workspaces/v1/credentials'],
    ['POST', `/workspaces/v1/credentials/${credential}/reset`],
    ['DELETE', `/workspaces/v1/credentials/${credential}`, undefined, 204],
    ['GET', '/workspaces/v1/msp-tenants?offset=0&limit=300'],
    ['POST', '/workspaces/v1/msp-tenants', { workspaceName: 'T' }, 201],
    ['PUT', `/workspaces/v1/msp-tenants/${tenant}`, { workspaceName: 'T2' }],
    ['GET', `/locations/v1/locations/${location}`],
    ['PATCH', `/locations/v1/locations/${location}`, { description: 'd' }],
    ['GET', '/locations/v1/locations/tags?offset=0&limit=100'],
    ['PATCH', '/locations/v1/locations/tags', { locationId: location, createTags: [{ name: 'a', value: 'b' }], deleteTags: [] }],
    ['GET', `/locations/v1/locations/tags/${location}`],
    ['GET', '/locations/v1/locations?offset=0&limit=100'],
    ['POST', '/locations/v1/locations', { name: 'New site' }],
    ['PATCH', `/locations/v1/locations/update/${location}`, { name: 'Renamed' }],
    ['GET', '/locations/v1/locations/address/revgeocode?latitude=1&longitude=2&language=en'],
    ['GET', '/tags/v1/tags?limit=100&offset=0'],
    ['GET', `/tags/v1/tag-resources?filter=${encodeURIComponent("resourceType eq 'DEVICE'")}`],
    ['GET', `/service-catalog/v1/service-managers/${manager}`],
    ['GET', '/service-catalog/v1/per-region-service-managers?offset=0&limit=2000'],
    ['GET', '/service-catalog/v1/per-region-service-managers/eu-central'],
    ['GET', `/service-catalog/v1/service-manager-provisions/${provision}`],
    ['GET', `/service-catalog/v1/service-manager-provisions?filter=${encodeURIComponent("status eq 'PROVISIONED'")}`],
    ['POST', '/service-catalog/v1/service-manager-provisions', { serviceManagerId: manager, region: 'eu-central' }, 201],
    ['DELETE', `/service-catalog/v1/service-manager-provisions/${provision}`, undefined, 204],
    ['GET', `/devices/v1/devices/${device}`],
    ['POST', '/devices/v1/devices', { compute: [], storage: [], network: [] }, 202],
    ['PATCH', `/devices/v1/devices?id=${device}`, { application: {} }, 202],
    ['POST', '/subscriptions/v1/subscriptions', { subscriptions: [{ key: 'K' }] }, 202],
    ['PATCH', `/subscriptions/v1/subscriptions?id=${subscription}`, { tags: {} }, 202],
    ['GET', `/subscriptions/v1/subscriptions/${subscription}`],
    ['GET', `/subscriptions/v1/auto-subscription-settings/${setting}`],
    ['PATCH', `/subscriptions/v1/auto-subscription-settings/${setting}`, { autoSubscriptionSettings: [] }],
    ['GET', '/subscriptions/v1/auto-subscription-settings'],
    ['GET', `/audit-log/v1/logs/${log}/detail`],
    ['GET', `/wellness/v2/events/${event}`],
    ['PATCH', `/wellness/v2/events/${event}`, { read: true, flag: false, archive: false }],
    ['POST', '/wellness/v2/support-cases', { event: { id: event } }, 202],
    ['GET', `/wellness/v2/support-cases/${supportCase}`],
    ['GET', '/wellness/v2/async-operations?limit=100'],
    ['GET', `/wellness/v2/async-operations/${operation}`],
    ['DELETE', `/identity/v1/users/${user}`, undefined, 204],
    ['DELETE', `/workspaces/v1/msp-tenants/${tenant}`, undefined, 204],
    ['DELETE', `/locations/v1/locations/${location}`, undefined, 204],
  ];
  for (const [method, path, body, status = 200] of cases) {
    const answer = method === 'GET' ? await get(path) : await send(method, path, body);
    t.equal(answer.status, status, `${method} ${path.split('?')[0]}`);
  }
});

t.test('published per-API rate limits: headers per API, IAM in X-RateLimit-*, no Retry-After; a test-set limit wins', async (t) => {
  const { emu, get, send } = await api(t, { publishedRateLimits: true });
  const devices = await get('/devices/v1/devices');
  t.match(devices.headers, { 'ratelimit-limit': '160', 'ratelimit-remaining': '159', 'ratelimit-reset': /^\d+$/ });
  t.equal((await get(`/devices/v1/devices/${String(items(devices)[0]?.['id'])}`)).headers['ratelimit-limit'], '40', 'by id: its own budget');
  t.equal((await send('POST', '/devices/v1/devices', {})).headers['ratelimit-limit'], '25');
  t.equal((await get('/devices/v1/devices')).headers['ratelimit-remaining'], '158', 'the list budget was not spent by the others');
  t.equal((await get('/identity/v1/users')).headers['ratelimit-limit'], '300');
  t.equal((await get('/subscriptions/v1/subscriptions')).headers['ratelimit-limit'], '60');
  t.equal((await get('/tags/v1/tags')).headers['ratelimit-limit'], '600', 'unpublished platform limits get our stand-in, headers included');
  t.equal((await get('/compute-ops-mgmt/v1/servers')).headers['ratelimit-limit'], undefined, 'COM publishes no limit: no headers');

  const answers = [];
  for (let i = 0; i < 6; i += 1) answers.push(await get('/organizations/v1alpha1/organizations'));
  t.match(answers[0]?.headers, { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset': /^\d+$/ });
  t.equal(answers[0]?.headers['ratelimit-limit'], undefined, 'IAM uses its own header names');
  t.same(answers.map((answer) => answer.status), [200, 200, 200, 200, 200, 429]);
  t.equal(answers[5]?.headers['retry-after'], undefined, 'no Retry-After: HPE documents none');

  emu.setRateLimit({ limit: 1000, windowSeconds: 60 });
  const overridden = await get('/organizations/v1alpha1/organizations');
  t.equal(overridden.status, 200);
  t.equal(overridden.headers['x-ratelimit-limit'], '1000', 'a test-set limit overrides the published ones');
  emu.setRateLimit(undefined);
  emu.setPublishedRateLimits(false);
  t.equal((await get('/devices/v1/devices')).headers['ratelimit-limit'], undefined, 'switched off');
});

t.test('published rate limits are off by default: hammering an API gets no 429', async (t) => {
  const { get } = await api(t);
  const statuses = new Set<number>();
  for (let i = 0; i < 45; i += 1) statuses.add((await get(`/devices/v1/devices/${'x'.repeat(3)}`)).status);
  t.same([...statuses], [404], 'beyond the 40/min of devices by id, and never 429');
  t.equal((await get('/devices/v1/devices')).headers['ratelimit-limit'], undefined);
});

t.test('injected 5xx bodies carry errorDetails[].retryAfterSeconds', async (t) => {
  const { emu, get } = await api(t);
  emu.setApiFault({ kind: 'status', status: 503, times: 1, retryAfterSeconds: 7 });
  const answer = await get('/devices/v1/devices');
  t.equal(answer.status, 503);
  t.match(answer.json(), { httpStatusCode: 503, errorDetails: [{ retryAfterSeconds: 7 }] });
  t.equal(answer.headers['retry-after'], undefined);
});

t.test('tokens: the workspace issuer mints 900 s api-v1.2, the classic endpoint 7199 s api-v1.1; an explicit lifetime wins', async (t) => {
  const emu = await emulator(t);
  const classic = await tokenAnswer(t, emu.tokenUrl);
  t.equal(classic['expires_in'], 7199);
  t.match(decodeJwt(String(classic['access_token'])), { hpe_token_type: 'api-v1.1' });
  const workspace = await tokenAnswer(t, emu.workspaceTokenUrl(WORKSPACE_ID));
  t.equal(workspace['expires_in'], 900);
  const claims = decodeJwt(String(workspace['access_token']));
  t.match(claims, { hpe_token_type: 'api-v1.2', platform_customer_id: WORKSPACE_ID });
  t.equal(claims.exp, Number(claims.iat) + 900);
  emu.setTokenLifetime(60);
  t.equal((await tokenAnswer(t, emu.workspaceTokenUrl(WORKSPACE_ID)))['expires_in'], 60, 'setTokenLifetime sets both');
  t.equal((await tokenAnswer(t, emu.tokenUrl))['expires_in'], 60);

  const fixed = await emulator(t, { tokenLifetimeSeconds: 300 });
  t.equal((await tokenAnswer(t, fixed.workspaceTokenUrl(WORKSPACE_ID)))['expires_in'], 300, 'the option sets both');
  t.equal((await tokenAnswer(t, fixed.tokenUrl))['expires_in'], 300);
});

t.test('the journal keeps the last N entries and counts every request', async (t) => {
  const { emu, get } = await api(t, { journalLimit: 3 });
  for (let i = 0; i < 5; i += 1) await get(`/echo/${i}`);
  await get('/devices/v1/devices?limit=1');
  await get('/devices/v1/devices');
  t.equal(emu.apiRequests.length, 3, 'only the last 3 kept');
  t.same(emu.apiRequests.map((record) => record.rawUrl), ['/echo/4', '/devices/v1/devices?limit=1', '/devices/v1/devices']);
  t.equal(emu.apiRequestCount, 7, 'but all 7 counted');
  t.equal(emu.tokenRequestCount, 1);
  t.equal(emu.requestCount('/devices/v1/devices'), 2, 'per path, query ignored');
  t.equal(emu.requestCount('/devices/v1/devices', 'post'), 0);
  t.equal(emu.requestCount('/as/token.oauth2', 'POST'), 1);

  const http = client(t);
  const counts = (await call(http, `${emu.url}/_emulator/counts`)).json<{ apiRequests: number; byPath: Record<string, number> }>();
  t.match(counts, { apiRequests: 7, tokenRequests: 1, byPath: { 'GET /devices/v1/devices': 2, 'GET /echo/0': 1 } });
  const last = (await call(http, `${emu.url}/_emulator/journal?last=1`)).json<{ apiRequests: Array<{ rawUrl: string }> }>();
  t.same(last.apiRequests.map((record) => record.rawUrl), ['/devices/v1/devices']);
  t.equal((await call(http, `${emu.url}/_emulator/journal?last=0`)).status, 400);
  emu.resetJournal();
  t.equal(emu.apiRequestCount, 0, 'reset clears the counts too');
});

t.test('reset restores the sample data', async (t) => {
  const { emu, get, send } = await api(t);
  const [device] = items(await get('/devices/v1/devices?limit=1'));
  await send('PATCH', `/devices/v1/devices?id=${String(device?.['id'])}`, { region: 'ap-northeast' });
  t.equal((await get(`/devices/v1/devices/${String(device?.['id'])}`)).json()['region'], 'ap-northeast');
  t.equal((await call(client(t), `${emu.url}/_emulator/reset`, { method: 'POST' })).status, 204);
  const { get: fresh } = await api(t);
  t.not((await fresh(`/devices/v1/devices/${String(device?.['id'])}`)).json()['region'], 'ap-northeast', 'another emulator never shares data');
  const token = String((await tokenAnswer(t, emu.tokenUrl))['access_token']);
  const after = await call(client(t), `${emu.url}/devices/v1/devices/${String(device?.['id'])}`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(after.json()['region'], device?.['region'], 'back to the seed');
});

t.test('added devices join the workspace: POST /devices/v1/devices with compute/network/storage lists, then found by serial number', async (t) => {
  const { get, send } = await api(t);
  const before = (await get('/devices/v1/devices?limit=1')).json<{ total: number }>().total;
  const accepted = await send('POST', '/devices/v1/devices', { network: [{ serialNumber: 'SNX1', macAddress: '00:11:22:33:44:55' }], compute: [{ serialNumber: 'SNX2', partNumber: 'P07595-B21' }] });
  t.equal(accepted.status, 202);
  const found = (await get(`/devices/v1/devices?filter=${encodeURIComponent("serialNumber eq 'SNX1'")}`)).json<{ count: number; items: Array<Record<string, unknown>> }>();
  t.equal(found.count, 1, 'the added network device is listed');
  t.equal(found.items[0]?.['deviceType'], 'UNKNOWN', "a type in HPE's enum");
  t.equal((await get('/devices/v1/devices?limit=1')).json<{ total: number }>().total, before + 2, 'both added devices count');
});
