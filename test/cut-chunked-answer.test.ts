import t from 'tap';
import { configFor, emulator, eventually, proxy } from './helpers/index.ts';
import { rawRequest, rawUpstream } from './security/support.ts';

const LAST_CHUNK = '0\r\n\r\n';

t.test('a chunked upstream answer cut short reaches the caller cut short: never with the last chunk that would make it look whole', async (t) => {
  const up = await rawUpstream((request, socket) => {
    if (request.requestLine.startsWith('GET /whole ')) {
      socket.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n${LAST_CHUNK}`);
      return;
    }
    // Half an answer, then the connection drops, as an upstream that crashes mid-answer does.
    socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', () => socket.destroy());
  });
  t.teardown(() => up.close());
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { routes: [{ prefix: '/u', upstream: up.url }] }));

  const whole = await rawRequest(gw.url, 'GET /u/whole HTTP/1.1');
  t.equal(whole.status, 200);
  t.ok(whole.body.endsWith(`hello\r\n${LAST_CHUNK}`), 'a whole chunked answer ends with its last chunk');

  const cut = await rawRequest(gw.url, 'GET /u/cut HTTP/1.1');
  t.equal(cut.status, 200, 'the head had been passed on');
  t.match(cut.body, /hello/, 'with what had arrived');
  t.notOk(cut.body.includes(LAST_CHUNK), 'but no last chunk: the caller can tell the answer is incomplete');
  await eventually('the cut is logged', () => gw.logs.some((line) => line.includes('upstream answer cut short')));
});
