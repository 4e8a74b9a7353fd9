import { writeFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config/index.ts';
import { hashKey } from '../../src/inbound/index.ts';
import { runCli } from '../helpers/cli.ts';
import { call, client, configFor, emulator, proxy } from '../helpers/index.ts';

const CLIENT_ENV = { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 'secret' };


async function refusal(action: () => Promise<unknown>): Promise<readonly string[]> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

t.test('a non-loopback listen address without inbound authentication is refused, whichever way it was set', async (t) => {
  const dir = t.testdir({
    'open.yaml': 'listen: { host: 0.0.0.0 }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n',
    'loopback.yaml': 'clients: [{ name: a, clientId: i, clientSecret: s }]\n',
  });
  const open = join(dir, 'open.yaml');
  const loopback = join(dir, 'loopback.yaml');
  const expected = /^listen\.host: not a loopback address, and no inbound authentication is configured.*--allow-unauthenticated/;
  for (const [what, load] of [
    ['listen.host in the file', () => loadConfig({ file: open, env: {} })],
    ['--host', () => loadConfig({ file: loopback, env: {}, overrides: { host: '10.1.2.3' } })],
    ['GREENLAKE_PROXY_HOST', () => loadConfig({ file: loopback, env: { GREENLAKE_PROXY_HOST: '::' } })],
    ['--host over a loopback GREENLAKE_PROXY_HOST', () => loadConfig({ file: loopback, env: { GREENLAKE_PROXY_HOST: '127.0.0.1' }, overrides: { host: 'proxy.example.com' } })],
    ['zero-config', () => loadConfig({ env: { ...CLIENT_ENV, GREENLAKE_PROXY_HOST: '0.0.0.0' } })],
  ] as const) {
    const problems = await refusal(load);
    t.equal(problems.length, 1, what);
    t.match(problems[0], expected, what);
  }
  for (const host of ['127.0.0.1', '127.0.0.53', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) {
    t.same(await refusal(() => loadConfig({ file: open, env: {}, overrides: { host } })), [], `${host} is loopback`);
  }
  t.same(await refusal(() => loadConfig({ file: open, env: {}, overrides: { allowUnauthenticated: true } })), [], '--allow-unauthenticated accepts it');
});

t.test('keys, a JWT issuer or inbound.allowUnauthenticated each make a non-loopback address acceptable', async (t) => {
  const dir = t.testdir({});
  const cases = {
    keys: `inbound: { apiKeys: [{ name: ci, keyHash: "${hashKey('k'.repeat(20))}", clients: [a] }] }`,
    jwt: 'inbound: { jwt: { issuer: https://idp.example.com, audience: proxy, jwksUrl: https://idp.example.com/jwks, clients: { admins: [a] } } }',
    allowed: 'inbound: { allowUnauthenticated: true }',
  };
  for (const [name, inbound] of Object.entries(cases)) {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, `listen: { host: 0.0.0.0 }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n${inbound}\n`);
    t.same(await refusal(() => loadConfig({ file, env: {} })), [], name);
  }
});

t.test('the command line exits 2 with the reason, and --allow-unauthenticated lets it start', async (t) => {
  const refused = await runCli(['check', '--host', '0.0.0.0'], CLIENT_ENV);
  t.equal(refused.code, 2);
  t.match(refused.stderr, /listen\.host: not a loopback address.*--allow-unauthenticated/);
  const byEnvironment = await runCli(['serve'], { ...CLIENT_ENV, GREENLAKE_PROXY_HOST: '0.0.0.0', GREENLAKE_PROXY_PORT: '0' });
  t.equal(byEnvironment.code, 2, 'serve refuses to start');
  t.equal(byEnvironment.stdout, '', 'and never listened');
  const allowed = await runCli(['check', '--host', '0.0.0.0', '--allow-unauthenticated'], CLIENT_ENV);
  t.equal(allowed.code, 0, allowed.stderr);
});

t.test('started open on purpose: a warning at start; loopback and this machine’s addresses are allowed Hosts', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { listen: { host: '0.0.0.0', port: 0 }, inbound: { allowUnauthenticated: true } }));
  const warning = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line['level'] === 'warn');
  t.match(warning?.['msg'], /WITHOUT inbound authentication/, 'a warning says so at start');
  const port = new URL(gw.url).port;
  const http = client(t);
  t.equal((await call(http, `http://127.0.0.1:${port}/dscc/us1/api/v1/volumes`)).status, 200);
  const foreign = await call(http, `http://127.0.0.1:${port}/dscc/us1/api/v1/volumes`, { headers: { host: `evil.example:${port}` } });
  t.equal(foreign.status, 403, 'a name still has to be allowed');
  t.equal(emu.apiRequests.length, 1, 'only the allowed Host was forwarded');

  const quiet = await proxy(t, configFor(emu, { inbound: { allowUnauthenticated: true } }));
  t.notOk(quiet.logs.some((line) => line.includes('"level":"warn"')), 'no warning on loopback');
});

const externalIPv4 = Object.values(networkInterfaces()).flatMap((list) => list ?? []).find((address) => !address.internal && address.family === 'IPv4')?.address;
t.test(
  'started open on 0.0.0.0: a Host naming one of this machine’s non-loopback addresses is allowed (probes use the pod IP)',
  { skip: externalIPv4 === undefined ? 'this machine has only loopback addresses: no address of its own to name in Host' : false },
  async (t) => {
    const emu = await emulator(t);
    const gw = await proxy(t, configFor(emu, { listen: { host: '0.0.0.0', port: 0 }, inbound: { allowUnauthenticated: true } }));
    const port = new URL(gw.url).port;
    const viaAddress = await call(client(t), `http://127.0.0.1:${port}/dscc/us1/api/v1/volumes`, { headers: { host: `${externalIPv4!}:${port}` } });
    t.equal(viaAddress.status, 200);
    t.equal(emu.apiRequests.length, 1, 'it was forwarded');
  },
);
