import { connect, type Socket } from 'node:net';
import t from 'tap';
import { configFor, emulator, eventually, proxy, type Tap } from '../helpers/index.ts';
import { rawUpstream, type RawUpstream } from './support.ts';

const KIB = 1024;

async function setup(t: Tap, overrides: Record<string, unknown>): Promise<{ up: RawUpstream; url: string; host: string }> {
  const up = await rawUpstream((_request, socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  t.teardown(() => up.close());
  const emu = await emulator(t);
  const raw = configFor(emu, { routes: [{ prefix: '/u', upstream: up.url }] });
  const gw = await proxy(t, { ...raw, ...overrides, inbound: { ...(overrides['inbound'] as object) }, timeouts: { ...(overrides['timeouts'] as object) } });
  return { up, url: gw.url, host: new URL(gw.url).host };
}

/** A POST declaring `length` bytes of which only `sent` are written: an upload that trickles, then stalls. */
function stalledUpload(t: Tap, url: string, host: string, length: number, sent: number): Socket {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.on('error', () => {});
  t.teardown(() => socket.destroy());
  socket.write(`POST /u/upload HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n\r\n`);
  socket.write(Buffer.alloc(sent, 'x'));
  return socket;
}

t.test('slow uploads hold replay memory without bound: past inbound.maxReplayMemoryBytes, bodies stream without replay', async (t) => {
  const { up, url, host } = await setup(t, { inbound: { maxReplayMemoryBytes: 1024 * KIB } });
  for (let i = 0; i < 3; i++) stalledUpload(t, url, host, 600 * KIB, 500 * KIB);
  // The first body fits and is held (nothing reaches the upstream before it is complete);
  // the other two find no replay memory left and stream at once: the upstream sees their heads.
  await eventually('two uploads stream to the upstream', () => up.received.length === 2);
  t.equal(up.received.length, 2, 'two streamed, one held');
});

t.test('a slow upload held for replay as long as it likes: after timeouts.requestBodyHoldMs it streams from where it got to', async (t) => {
  const { up, url, host } = await setup(t, { timeouts: { requestBodyHoldMs: 200 } });
  const socket = stalledUpload(t, url, host, 1000, 10);
  await eventually('the upload streams to the upstream', () => up.received.length === 1);
  const answered = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\r\n\r\nok')) resolve(text);
    });
  });
  socket.write(Buffer.alloc(990, 'x'));
  t.match(await answered, /^HTTP\/1\.1 200/, 'and is answered once complete');
});
