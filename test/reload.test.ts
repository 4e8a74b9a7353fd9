import t from 'tap';
import { parseConfig } from '../src/config/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { startServe, writeServeConfig } from './helpers/cli.ts';
import { call, client, configFor, emulator, eventually, freePort, proxy } from './helpers/index.ts';

t.test('reload: routes change, unchanged tokens are kept, in-flight requests finish', async (t) => {
  const emu = await emulator(t);
  const raw = configFor(emu);
  const gw = await proxy(t, raw);
  const http = client(t);
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200);
  t.equal((await call(http, `${gw.url}/com/us-west/compute-ops-mgmt/v1/servers`)).status, 200);
  t.equal(emu.tokenRequests.length, 2);

  emu.setApiFault({ kind: 'delay', ms: 500 });
  const inflight = call(http, `${gw.url}/dscc/us1/api/v1/storage-systems`);
  await eventually('the slow request reached the upstream', () => emu.apiRequests.length >= 3);

  const next = {
    ...raw,
    routes: [
      { prefix: '/dscc/us1', upstream: emu.url },
      { prefix: '/lab', upstream: emu.url, region: 'lab' },
    ],
  };
  const result = await gw.gateway.reload(parseConfig(next, {}, 'test'));
  t.equal(result.routes, 2);
  t.equal(result.tokensKept, 1, 'the token of the unchanged route was kept');
  t.same(result.needRestart, []);
  t.equal((await inflight).status, 200, 'the request in flight during the reload finished');
  emu.setApiFault(undefined);

  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200, 'an unchanged route still works');
  t.equal(emu.tokenRequests.length, 2, 'with its kept token: no new token request');
  t.equal((await call(http, `${gw.url}/lab/api/v1/volumes`)).status, 200, 'a new route works');
  t.equal(emu.tokenRequests.length, 3, 'and got its own token');
  const removed = await call(http, `${gw.url}/com/us-west/compute-ops-mgmt/v1/servers`);
  t.equal(removed.status, 404, 'a removed route is gone');
  const status = (await call(http, `${gw.url}/-/status`)).json<{ routes: unknown[]; tokens: Array<{ region: string }> }>();
  t.equal(status.routes.length, 2, 'status shows the new configuration');
  t.same(status.tokens.map((k) => k.region).sort(), ['/dscc/us1', 'lab']);
});

t.test('reload: a changed client gets a new token; a route port opens and closes', async (t) => {
  const emu = await emulator(t);
  const raw = configFor(emu);
  const gw = await proxy(t, raw);
  const http = client(t);
  t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status, 200);
  const port = await freePort();
  const changed = {
    ...raw,
    clients: [{ name: 'team', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret, tokenUrl: emu.tokenUrl, authMethod: 'client_secret_basic' }],
    routes: [...(raw.routes as object[]), { port, upstream: emu.url, region: 'ported' }],
  };
  const result = await gw.gateway.reload(parseConfig(changed, {}, 'test'));
  t.equal(result.tokensKept, 0, 'no token kept: the client changed');
  t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status, 200);
  t.equal(emu.tokenRequests.at(-1)?.authMethod, 'client_secret_basic', 'the new client settings are used');
  const portUrl = gw.gateway.portUrls.get(`port:${port}`);
  t.ok(portUrl, 'the new route port listens');
  t.equal((await call(http, `${portUrl}/devices/v1/devices`)).status, 200);

  await gw.gateway.reload(parseConfig(raw, {}, 'test'));
  t.equal(gw.gateway.portUrls.size, 0, 'the port route is gone after the next reload');
  const refused = await call(client(t), `${portUrl}/devices/v1/devices`).then(
    () => 'answered',
    () => 'refused',
  );
  t.equal(refused, 'refused', 'and its port is closed');
});

t.test('SIGHUP reloads the file; a bad file is refused and the old configuration stays', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({});
  const dscc = `  - { prefix: /dscc/us1, upstream: "${emu.url}" }`;
  const file = await writeServeConfig(dir, emu, [dscc]);
  const proc = await startServe(t, file);
  const { child, url, waitForLog } = proc;
  const http = client(t);
  t.equal((await call(http, `${url}/dscc/us1/api/v1/volumes`)).status, 200);
  t.equal((await call(http, `${url}/lab/api/v1/volumes`)).status, 404);

  await writeServeConfig(dir, emu, [dscc, `  - { prefix: /lab, upstream: "${emu.url}" }`]);
  child.kill('SIGHUP');
  await waitForLog(/"msg":"configuration reloaded"/);
  t.equal((await call(http, `${url}/lab/api/v1/volumes`)).status, 200, 'the new route works after SIGHUP');
  t.equal(emu.tokenRequests.length, 2, 'the unchanged route kept its token; the new one fetched one');

  await writeServeConfig(dir, emu, ['  - { prefix: /broken }']);
  child.kill('SIGHUP');
  const refusal = await waitForLog(/"msg":"SIGHUP: the new configuration is invalid[^"]*"/);
  t.ok(refusal, 'the bad configuration is refused with a log line');
  t.match(proc.logs(), /routes\[0\]\.upstream/, 'which names the problem');
  t.equal((await call(http, `${url}/lab/api/v1/volumes`)).status, 200, 'and the old configuration stays in force');
  child.kill('SIGTERM');
  const [code] = await proc.exited;
  t.equal(code, 0);
});
