import { connect, type Socket } from 'node:net';
import t from 'tap';
import { parseConfig } from '../../src/config/index.ts';
import { hashKey } from '../../src/inbound/index.ts';
import { configFor, emulator, eventually, proxy } from '../helpers/index.ts';

const KEEP_KEY = 'glproxy_keep-key-0123456789abcdefghijklmnopqrs';
const DROP_KEY = 'glproxy_drop-key-0123456789abcdefghijklmnopqrs';
const PATH = '/glp/global/devices/v1/devices';

/** A kept-alive connection: each request is written on it and its answer's status read back. */
async function keptAlive(url: string): Promise<{ status(path: string, headers: string[]): Promise<number>; socket: Socket }> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  await new Promise((resolve) => socket.once('connect', resolve));
  let buffered = '';
  socket.on('data', (chunk: Buffer) => (buffered += chunk.toString('latin1')));
  return {
    socket,
    async status(path, headers) {
      buffered = '';
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${headers.join('\r\n')}\r\n\r\n`);
      await eventually('an answer', () => answerComplete(buffered));
      return Number(/^HTTP\/1\.1 (\d{3})/.exec(buffered)?.[1] ?? 0);
    },
  };
}

function answerComplete(text: string): boolean {
  const end = text.indexOf('\r\n\r\n');
  if (end === -1) return false;
  const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
  return text.length >= end + 4 + length;
}

t.test('a removed API key keeps working after reload: it is refused at once, on an already open keep-alive connection too', async (t) => {
  const emu = await emulator(t);
  const withKeys = (keys: string[]) =>
    configFor(emu, { inbound: { apiKeys: keys.map((key, i) => ({ name: `k${i}`, keyHash: hashKey(key), clients: ['team'] })) } });
  const gw = await proxy(t, withKeys([KEEP_KEY, DROP_KEY]));
  const open = await keptAlive(gw.url);
  t.teardown(() => open.socket.destroy());
  t.equal(await open.status(PATH, [`X-API-Key: ${DROP_KEY}`]), 200, 'the key works before the reload');

  const result = await gw.gateway.reload(parseConfig(withKeys([KEEP_KEY]), {}, 'test'));
  t.same(result.needRestart, [], 'nothing about keys needs a restart');
  t.equal(await open.status(PATH, [`X-API-Key: ${DROP_KEY}`]), 401, 'the removed key is refused on the open connection');
  t.equal(await open.status(PATH, [`Authorization: Bearer ${DROP_KEY}`]), 401, 'as a bearer too');
  t.equal(await open.status(PATH, [`X-API-Key: ${KEEP_KEY}`]), 200, 'the kept key still works there');
  t.ok(gw.logs.some((line) => line.includes('"configuration reloaded"') && line.includes('"level":"info"')), 'the reload is logged at info');

  await gw.gateway.reload(parseConfig(withKeys([KEEP_KEY, DROP_KEY]), {}, 'test'));
  t.equal(await open.status(PATH, [`X-API-Key: ${DROP_KEY}`]), 200, 'a key added by reload works at once');
});

t.test('a change that still needs a restart logged at info only: the warning names inbound.rateLimit, inbound.maxHeaderBytes, or keys added to a proxy started without', async (t) => {
  const emu = await emulator(t);
  const keyed = configFor(emu, { inbound: { apiKeys: [{ name: 'k', keyHash: hashKey(KEEP_KEY), clients: ['team'] }] } });
  const gw = await proxy(t, keyed);
  const changed = configFor(emu, { inbound: { apiKeys: [{ name: 'k', keyHash: hashKey(KEEP_KEY), clients: ['team'] }], rateLimit: { max: 5 }, maxHeaderBytes: 4096 } });
  const result = await gw.gateway.reload(parseConfig(changed, {}, 'test'));
  t.same(result.needRestart, ['inbound.rateLimit', 'inbound.maxHeaderBytes']);
  const warning = gw.logs.find((line) => line.includes('"level":"warn"') && line.includes('need a restart'));
  t.match(warning, /inbound\.rateLimit, inbound\.maxHeaderBytes/, 'the warning names them');

  const open = await proxy(t, configFor(emu));
  const secured = await open.gateway.reload(parseConfig(configFor(emu, { inbound: { apiKeys: [{ name: 'k', keyHash: hashKey(KEEP_KEY), clients: ['team'] }] } }), {}, 'test'));
  t.same(secured.needRestart, ['inbound.apiKeys/inbound.jwt (the proxy started without inbound authentication)']);
  t.ok(open.logs.some((line) => line.includes('"level":"warn"') && line.includes('started without inbound authentication')), 'keys added to an unauthenticated proxy: a warning says they wait for a restart');
});

t.test('allowed hosts added by reload apply to the next request', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu));
  const open = await keptAlive(gw.url);
  t.teardown(() => open.socket.destroy());
  const port = new URL(gw.url).port;
  const named = async (): Promise<number> => {
    open.socket.write(`GET /-/healthz HTTP/1.1\r\nHost: proxy.internal:${port}\r\n\r\n`);
    let text = '';
    const collect = (chunk: Buffer): void => void (text += chunk.toString('latin1'));
    open.socket.on('data', collect);
    await eventually('an answer', () => answerComplete(text));
    open.socket.off('data', collect);
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  };
  t.equal(await named(), 403, 'an unknown host is refused');
  await gw.gateway.reload(parseConfig(configFor(emu, { inbound: { allowedHosts: ['proxy.internal'] } }), {}, 'test'));
  t.equal(await named(), 200, 'the reloaded allow-list applies on the open connection');
});
