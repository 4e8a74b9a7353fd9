import t from 'tap';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';

const ECHO = '/com/us-west/echo/id';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

t.test("a caller's X-Request-Id is kept only when it is a plain id of at most 128 characters; anything else gets a new one", async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const http = client(t);
  const idsFor = async (sent: string): Promise<{ answered: unknown; forwarded: unknown; logged: boolean }> => {
    const res = await call(http, gw.url + ECHO, { headers: { 'x-request-id': sent } });
    t.equal(res.status, 200);
    const forwarded = res.json<{ headers: Record<string, string> }>().headers['x-request-id'];
    return { answered: res.headers['x-request-id'], forwarded, logged: gw.logs.some((line) => line.includes(JSON.stringify(sent))) };
  };

  for (const kept of ['trace-1', 'a'.repeat(128), 'svc.name:42@host/path+x=y_z']) {
    const ids = await idsFor(kept);
    t.equal(ids.answered, kept, `kept (${kept.length} characters): answered`);
    t.equal(ids.forwarded, kept, 'and forwarded');
  }
  const refused = ['a'.repeat(129), 'has space', 'quote"d', '<script>', 'semi;colon', 'one,two'];
  for (const sent of refused) {
    const ids = await idsFor(sent);
    t.match(ids.answered, UUID, `${JSON.stringify(sent.slice(0, 20))}: a new id is answered`);
    t.equal(ids.forwarded, ids.answered, 'the same new id is forwarded');
    t.notOk(ids.logged, 'and the sent value is not the id the logs carry');
  }
});
