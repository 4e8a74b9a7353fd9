import { createHash } from 'node:crypto';
import t from 'tap';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';

const MIB = 1024 * 1024;

t.test('a body of up to 1 MiB is held and replayed after a 401; one byte more streams, and the 401 comes back', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200, 'the proxy has a token');

  emu.revokeAllTokens();
  const limit = Buffer.alloc(MIB, 7);
  const held = await call(http, `${gw.url}/dscc/us1/upload`, { method: 'POST', body: limit });
  t.equal(held.status, 200, 'exactly 1 MiB: replayed with a new token');
  t.same(held.json(), { bytes: MIB, sha256: createHash('sha256').update(limit).digest('hex') }, 'the whole body, both times');
  t.equal(emu.tokenRequests.length, 2, 'one new token');
  t.equal(emu.apiRequests.filter((r) => r.rawUrl === '/upload').length, 2, 'sent twice: refused, then replayed');

  emu.revokeAllTokens();
  const over = await call(http, `${gw.url}/dscc/us1/upload`, { method: 'POST', body: Buffer.alloc(MIB + 1, 7) });
  t.equal(over.status, 401, 'one byte more: streamed, so the 401 reaches the caller');
  t.equal(emu.apiRequests.filter((r) => r.rawUrl === '/upload').length, 3, 'sent once');
});
