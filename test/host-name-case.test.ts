import t from 'tap';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';

const SERVERS = '/com/us-west/compute-ops-mgmt/v1/servers';

t.test('Host names are matched without regard to case (RFC 9110 4.2.3), with a port and without one', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { allowedHosts: ['proxy.example.com'] } }));
  const http = client(t);
  const port = new URL(gw.url).port;
  for (const name of ['LOCALHOST', 'LocalHost', 'PROXY.EXAMPLE.COM', 'Proxy.Example.Com']) {
    for (const host of [name, `${name}:${port}`]) {
      t.equal((await call(http, gw.url + SERVERS, { headers: { host } })).status, 200, `Host ${host} is allowed`);
    }
  }
  t.equal(emu.apiRequests.length, 8, 'each was forwarded');
  const foreign = await call(http, gw.url + SERVERS, { headers: { host: 'PROXY.EVIL.EXAMPLE' } });
  t.equal(foreign.status, 403, 'a name not on the list, in any case, is still refused');
  t.equal(emu.apiRequests.length, 8);
});
