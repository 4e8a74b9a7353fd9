import t from 'tap';
import { hashKey } from '../src/inbound/index.ts';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';

const ADMIN_KEY = 'glproxy_admin-key-0123456789abcdefghijklmnopq';

t.test('a stand-in got with an admin key opens the API, never the admin endpoints', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { apiKeys: [{ name: 'ops', keyHash: hashKey(ADMIN_KEY), clients: ['team'], admin: true }] } }));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/-/status`, { headers: { 'x-api-key': ADMIN_KEY } })).status, 200, 'the key itself opens /-/status');

  const answer = await call(http, `${gw.url}/-/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&client_id=tool&client_secret=${ADMIN_KEY}`,
  });
  t.equal(answer.status, 200, 'a stand-in for the admin key');
  const standIn = answer.json<{ access_token: string }>().access_token;
  const bearer = { authorization: `Bearer ${standIn}` };
  t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`, { headers: bearer })).status, 200, 'the stand-in opens the API');
  for (const path of ['/-/status', '/-/metrics', '/-/']) {
    const res = await call(http, gw.url + path, { headers: bearer });
    t.equal(res.status, 403, `${path}: 403`);
    t.equal(res.json().errorCode, 'GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED');
  }
});
