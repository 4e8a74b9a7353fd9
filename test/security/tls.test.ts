import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connect } from 'node:tls';
import t from 'tap';
import { Agent } from 'undici';
import { ConfigError } from '../../src/config/index.ts';
import { call, configFor, emulator, eventually, proxy, type Tap } from '../helpers/index.ts';

const fixture = (name: string): string => new URL(`../fixtures/tls/${name}`, import.meta.url).pathname;

/** A client that trusts both test certificates, so it can follow a swap. */
async function trustingClient(t: Tap): Promise<Agent> {
  const ca = [await readFile(fixture('ca.pem'), 'utf8'), await readFile(fixture('other.pem'), 'utf8')];
  const agent = new Agent({ connect: { ca } });
  t.teardown(() => agent.close());
  return agent;
}

/** The SHA-256 fingerprint of the certificate a fresh connection is served. */
async function servedFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const ca = [await readFile(fixture('ca.pem'), 'utf8'), await readFile(fixture('other.pem'), 'utf8')];
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca, servername: 'localhost' }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.end();
    });
    socket.on('error', reject);
  });
}

async function tlsFiles(t: Tap): Promise<{ certFile: string; keyFile: string }> {
  const dir = t.testdir({});
  const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
  await copyFile(fixture('server.pem'), files.certFile);
  await copyFile(fixture('server.key'), files.keyFile);
  return files;
}

t.test('listen.tls serves https; plain http on the same port gets nowhere', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { listen: { host: '127.0.0.1', port: 0, tls: await tlsFiles(t) } }));
  t.match(gw.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const https = await trustingClient(t);
  const res = await call(https, `${gw.url}/glp/global/redirect?to=/devices/v1/async-operations/1&absolute=1`);
  t.equal(res.status, 302);
  t.equal(res.headers.location, `${gw.url}/glp/global/devices/v1/async-operations/1`, 'Location rewritten to https');
  const plain = await call(new Agent(), gw.url.replace('https:', 'http:') + '/glp/global/devices/v1/devices').catch((err: Error) => err);
  t.ok(plain instanceof Error || plain.status >= 400, 'plain http is not answered as a request');
  t.equal(emu.apiRequests.length, 1);
});

t.test('renewed certificate files are served without a restart; a broken pair keeps the old one', async (t) => {
  const emu = await emulator(t);
  const files = await tlsFiles(t);
  const gw = await proxy(t, configFor(emu, { listen: { host: '127.0.0.1', port: 0, tls: files } }));
  const before = await servedFingerprint(gw.url);

  await writeFile(files.certFile, await readFile(fixture('other.pem')));
  await writeFile(files.keyFile, await readFile(fixture('other.key')));
  await eventually('the new certificate is served', async () => (await servedFingerprint(gw.url)) !== before);
  const renewed = await servedFingerprint(gw.url);
  t.ok(gw.logs.some((line) => line.includes('TLS certificate reloaded')), 'the reload is logged');
  t.equal((await call(await trustingClient(t), `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200, 'requests work on the new certificate');

  await writeFile(files.keyFile, await readFile(fixture('server.key')));
  await eventually('the mismatch is reported', () => gw.logs.some((line) => line.includes('keeping the current certificate')));
  t.equal(await servedFingerprint(gw.url), renewed, 'a certificate with the wrong key is not served');
});

t.test('a certificate and key that do not match refuse to start, as a configuration error', async (t) => {
  const emu = await emulator(t);
  const tls = { certFile: fixture('server.pem'), keyFile: fixture('other.key') };
  const started = await proxy(t, configFor(emu, { listen: { host: '127.0.0.1', port: 0, tls } })).catch((err: unknown) => err);
  t.ok(started instanceof ConfigError, 'ConfigError (exit 2)');
  t.match((started as Error).message, /listen\.tls: certFile and keyFile are not a PEM certificate and its key/);
  t.notMatch((started as Error).message, /BEGIN/, 'the message quotes no file content');
});
