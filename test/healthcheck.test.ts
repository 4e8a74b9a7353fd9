/**
 * The image's HEALTHCHECK, run as Docker runs it (the container's environment, not its
 * arguments) beside the image's command with a --port of its own, a TLS listener and an admin
 * listener: it must ask the proxy where that proxy listens.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { probeTargets } from '../src/cli/health.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { envOf, execForm, healthcheckOf, last, parseDockerfile, run, startListening, withNode } from './helpers/dockerfile.ts';
import { emulator } from './helpers/index.ts';
import { freePort } from './security/support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const finalStage = parseDockerfile(await readFile(path.join(ROOT, 'Dockerfile'), 'utf8')).at(-1)!;

t.test('the HEALTHCHECK asks the proxy itself: the --port it was started with, a TLS listener, the admin listener', async (t) => {
  const { command, options } = healthcheckOf(finalStage);
  t.same(command, ['node', 'src/cli/healthcheck.js'], 'the health command of the proxy\'s own source');
  const seconds = (text: string | undefined) => Number(/^(\d+)s$/.exec(text ?? '')?.[1]);
  t.ok(seconds(options['timeout']) >= 3, `--timeout ${options['timeout']} leaves the probe its 2.5 s`);

  const emu = await emulator(t);
  const [port, adminPort, wrongPort] = [await freePort(), await freePort(), await freePort()];
  const dir = t.testdir({
    'proxy.yaml': [
      'listen: { host: 127.0.0.1, port: 8443, tls: { certFile: tls/server.pem, keyFile: tls/server.key } }',
      `admin: { host: 127.0.0.1, port: ${adminPort} }`,
      `clients: [{ name: demo, clientId: ${DEMO_CLIENT.clientId}, clientSecret: "\${DEMO_SECRET}", tokenUrl: "${emu.tokenUrl}" }]`,
      '',
    ].join('\n'),
    tls: { 'server.pem': readFileSync(path.join(ROOT, 'test/fixtures/tls/server.pem'), 'utf8'), 'server.key': readFileSync(path.join(ROOT, 'test/fixtures/tls/server.key'), 'utf8') },
  });
  // The image's environment (GREENLAKE_PROXY_HOST=0.0.0.0 and its port), then a --port of the container's own.
  const env = { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, ...envOf(finalStage), DEMO_SECRET: DEMO_CLIENT.clientSecret };
  const servingArgs = ['serve', '--config', path.join(dir, 'proxy.yaml'), '--port', String(port), '--allow-unauthenticated'];
  const { child, exited, logs: output } = await startListening(t, process.execPath, [...execForm(last(finalStage, 'ENTRYPOINT')!.args, 'ENTRYPOINT').slice(1), ...servingArgs], { cwd: ROOT, env });
  const logs = output();
  t.match(logs, "listen.host 0.0.0.0 from GREENLAKE_PROXY_HOST replaces the config file's 127.0.0.1", 'the image\'s ENV over the mounted file is logged, not silent');
  t.match(logs, `listen.port ${port} from --port replaces the config file's 8443`);

  const healthcheck = (...args: string[]) => run(...withNode([...command, ...args]), { cwd: ROOT, env: { ...env, GREENLAKE_CLIENT_ID: 'i', GREENLAKE_CLIENT_SECRET: 's' } });
  const healthy = await healthcheck('--pid', String(child.pid));
  t.equal(healthy.code, 0, `healthy while serving: ${healthy.stdout}`);
  t.match(healthy.stdout, `healthy: main https://127.0.0.1:${port}/-/healthz 200, admin http://127.0.0.1:${adminPort}/-/healthz 200`, 'https on the --port, and the admin listener');

  // Where the check would look with other arguments: worked out in this process (each health command is a Node start).
  const elsewhere = await probeTargets(servingArgs.map((a) => (a === String(port) ? String(wrongPort) : a)), env);
  t.same(elsewhere.map((p) => p.url), [`https://127.0.0.1:${wrongPort}/-/healthz`, `http://127.0.0.1:${adminPort}/-/healthz`], 'another --port is asked on that port');
  const plain = await probeTargets(['serve', '--port', String(port), '--allow-unauthenticated'], { ...env, GREENLAKE_CLIENT_ID: 'i', GREENLAKE_CLIENT_SECRET: 's' });
  t.same(plain.map((p) => p.url), [`http://127.0.0.1:${port}/-/healthz`], 'without its config file: plain http, no admin listener');
  t.notMatch(healthy.stdout, DEMO_CLIENT.clientSecret);

  child.kill('SIGTERM');
  t.equal((await exited)[0], 0);
  const stopped = await healthcheck('--', ...servingArgs);
  t.equal(stopped.code, 1, 'unhealthy once nothing listens');
  t.match(stopped.stdout, `unhealthy: main https://127.0.0.1:${port}/-/healthz ECONNREFUSED, admin http://127.0.0.1:${adminPort}/-/healthz ECONNREFUSED`);
});
