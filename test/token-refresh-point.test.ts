import t from 'tap';
import { call, client, configFor, DEMO_SECRET, emulator, eventually, proxy } from './helpers/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';

t.test('a long-lived token is not fetched again while a short-lived one beside it is refreshed several times', async (t) => {
  // Two token endpoints: one issues tokens for an hour, the other tokens usable for 2 s (12 s,
  // less tokens.minTtlSeconds 10 s), refreshed by the proxy every 1.6 s (80 % of that).
  const long = await emulator(t, { tokenLifetimeSeconds: 3600 });
  const short = await emulator(t, { tokenLifetimeSeconds: 12 });
  const gw = await proxy(t, {
    ...configFor(long),
    clients: [
      { name: 'long', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_SECRET, tokenUrl: long.tokenUrl },
      { name: 'short', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_SECRET, tokenUrl: short.tokenUrl },
    ],
    routes: [
      { prefix: '/com/us-west', upstream: long.url, client: 'long' },
      { prefix: '/glp/global', upstream: short.url, client: 'short' },
    ],
  });
  const http = client(t);
  // The long-lived token first: any refresh it were due would be due before the short one's.
  t.equal((await call(http, `${gw.url}/com/us-west/echo/1`)).status, 200);
  t.equal((await call(http, `${gw.url}/glp/global/echo/1`)).status, 200);
  // The clock of this test is the short token's refreshes, not a sleep: three of them have
  // passed after at least three refresh intervals, whatever the machine's speed.
  await eventually('the short-lived token was refreshed three times', () => short.tokenRequests.length >= 4, 30_000);
  t.equal(long.tokenRequests.length, 1, 'the hour-long token was fetched once: its refresh is 48 minutes away');
  t.equal((await call(http, `${gw.url}/com/us-west/echo/2`)).status, 200);
  t.equal(long.tokenRequests.length, 1, 'and requests keep using it');
});
