/**
 * The image's ENV (GREENLAKE_PROXY_HOST=0.0.0.0, GREENLAKE_PROXY_PORT=8080) and the --host/--port
 * flags win over a mounted config file's `listen`, but never silently: a refusal names what set
 * the value, and a value that replaced the file's is logged at start.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import './helpers/fixtures.ts';
import { ConfigError, loadConfig } from '../src/config/index.ts';
import { createLogger, startGateway } from '../src/server/index.ts';

const CLIENT = 'clients: [{ name: a, clientId: i, clientSecret: not-a-real-secret }]\n';
const IMAGE_ENV = { GREENLAKE_PROXY_HOST: '0.0.0.0', GREENLAKE_PROXY_PORT: '8080' };

async function refusal(load: Promise<unknown>): Promise<ConfigError> {
  const error = await load.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(error)}`);
  return error;
}

t.test('a file that listens on loopback, under the image\'s ENV: the refusal names GREENLAKE_PROXY_HOST, not the file', async (t) => {
  const dir = t.testdir({ 'proxy.yaml': `listen: { host: 127.0.0.1, port: 9000 }\n${CLIENT}` });
  const file = path.join(dir, 'proxy.yaml');
  const error = await refusal(loadConfig({ file, env: IMAGE_ENV }));
  t.equal(error.problems.length, 1);
  t.match(error.problems[0], /^listen\.host: not a loopback address.* \(listen\.host set by GREENLAKE_PROXY_HOST, which replaces the config file's\)$/);

  const byFlag = await refusal(loadConfig({ file, env: {}, overrides: { host: '0.0.0.0' } }));
  t.match(byFlag.problems[0], /\(listen\.host set by --host, which replaces the config file's\)$/, 'a flag is named as the flag');

  const zeroConfig = await refusal(loadConfig({ env: { ...IMAGE_ENV, GREENLAKE_CLIENT_ID: 'i', GREENLAKE_CLIENT_SECRET: 's' } }));
  t.match(zeroConfig.problems[0], /^listen\.host: not a loopback address.* \(listen\.host set by GREENLAKE_PROXY_HOST\)$/, 'without a file, only the variable is named');

  const ownFile = await refusal(loadConfig({ file: path.join(t.testdir({ 'p.yaml': `listen: { host: 0.0.0.0 }\n${CLIENT}` }), 'p.yaml'), env: {} }));
  t.match(ownFile.problems[0], /^listen\.host: not a loopback address/, 'a value from the file itself is named by its key only');
  t.notMatch(ownFile.problems[0], /set by/);
});

t.test('values that replace the file\'s are listed with what set them; equal ones are not', async (t) => {
  const dir = t.testdir({ 'proxy.yaml': `listen: { host: 127.0.0.1, port: 9000 }\ninbound: { allowUnauthenticated: true }\n${CLIENT}` });
  const file = path.join(dir, 'proxy.yaml');
  const config = await loadConfig({ file, env: IMAGE_ENV });
  t.strictSame(config.listen, { host: '0.0.0.0', port: 8080 }, 'the precedence is unchanged: the environment wins');
  t.strictSame(config.listenOverrides, [
    { key: 'listen.host', value: '0.0.0.0', setBy: 'GREENLAKE_PROXY_HOST', fileValue: '127.0.0.1' },
    { key: 'listen.port', value: 8080, setBy: 'GREENLAKE_PROXY_PORT', fileValue: 9000 },
  ]);
  const flagged = await loadConfig({ file, env: IMAGE_ENV, overrides: { port: 9100 } });
  t.strictSame(flagged.listenOverrides?.map((o) => [o.key, o.setBy]), [['listen.host', 'GREENLAKE_PROXY_HOST'], ['listen.port', '--port']], 'a flag over a variable is named as the flag');

  const same = await loadConfig({ file, env: { GREENLAKE_PROXY_HOST: '127.0.0.1', GREENLAKE_PROXY_PORT: '9000' } });
  t.equal(same.listenOverrides, undefined, 'the same values replace nothing (the sidecar manifest sets its loopback both ways)');
  const notInFile = await loadConfig({ file: path.join(t.testdir({ 'p.yaml': CLIENT }), 'p.yaml'), env: { GREENLAKE_PROXY_PORT: '9001' } });
  t.equal(notInFile.listenOverrides, undefined, 'a value the file does not set replaces nothing');
});

t.test('the proxy logs, at start, which listen value the environment or a flag set over the file\'s', async (t) => {
  const dir = t.testdir({ 'proxy.yaml': `listen: { host: 127.0.0.1, port: 9000 }\n${CLIENT}` });
  const file = path.join(dir, 'proxy.yaml');
  const config = await loadConfig({ file, env: { GREENLAKE_PROXY_PORT: '8080' }, overrides: { port: 0 } });
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const gateway = await startGateway(config, createLogger('info', sink));
  t.teardown(() => gateway.close(0));
  const warning = lines.find((l) => l['key'] === 'listen.port');
  t.ok(warning, 'a line names listen.port');
  t.equal(warning?.['level'], 'warn', 'at warn level');
  t.equal(warning?.['msg'], "listen.port 0 from --port replaces the config file's 9000");
  t.match(warning, { setBy: '--port', value: 0, fileValue: 9000, file });
  t.notOk(lines.some((l) => l['key'] === 'listen.host'), 'the host, not replaced, is not mentioned');
});
