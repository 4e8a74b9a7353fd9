// serve and demo under a terminal and without one: what SIGHUP and SIGTERM do; wait.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { isRunning, runCli, startServe, underTerminal, writeServeConfig } from './helpers/cli.ts';
import { call, client, emulator, eventually, type Tap } from './helpers/index.ts';

/** A port some other program already listens on, closed at teardown. */
async function takenPort(t: Tap): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return (server.address() as { port: number }).port;
}


t.test('from a terminal: closing it (SIGHUP) stops serve and demo; kill -TERM always stops them', { skip: hasScript() ? false : 'no util-linux script here' }, async (t) => {
  const emu = await emulator(t);
  const file = await writeServeConfig(t.testdir({}), emu);
  for (const args of [['serve', '--config', file, '--port', '0'], ['demo', '--port', '0']]) {
    const closed = underTerminal(t, args, { SECRET: DEMO_CLIENT.clientSecret });
    const url = (await closed.waitForOutput(/INFO {2}greenlake-proxy listening url=(http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    t.notMatch(closed.output(), /"level"/, `${args[0]}: readable log lines on a terminal`);
    const pid = closed.commandPid();
    closed.script.kill('SIGKILL'); // the terminal window closes: the kernel hangs up its session
    await eventually(`${args[0]} stops when its terminal closes`, () => !isRunning(pid), 20_000);
    t.rejects(call(client(t), `${url}/-/healthz`), `${args[0]}: the port is free again`);

    const termed = underTerminal(t, args, { SECRET: DEMO_CLIENT.clientSecret });
    await termed.waitForOutput(/greenlake-proxy listening/);
    process.kill(termed.commandPid(), 'SIGTERM');
    const [code] = await termed.exited;
    t.equal(code, 0, `${args[0]}: kill -TERM under a terminal: exit 0`);
    t.match(termed.output(), /INFO {2}stopped/);
  }
});

t.test('without a controlling terminal (a service), SIGHUP still reloads', async (t) => {
  const emu = await emulator(t);
  const file = await writeServeConfig(t.testdir({}), emu);
  const proc = await startServe(t, file);
  proc.child.kill('SIGHUP');
  await proc.waitForLog(/"msg":"configuration reloaded"/);
  t.equal((await call(client(t), `${proc.url}/dscc/us1/api/v1/volumes`)).status, 200, 'still serving');
});

t.test('wait: exit 0 once the proxy is ready, 1 when it is not within --timeout, 2 on bad usage', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({});
  const file = await writeServeConfig(dir, emu);
  const proc = await startServe(t, file);
  const ready = await runCli(['wait', '--url', proc.url, '--timeout', '20s']);
  t.equal(ready.code, 0, ready.stderr);
  t.match(ready.stdout, new RegExp(`greenlake-proxy at ${proc.url} is ready`));

  const port = await takenPort(t); // listens, never answers HTTP ready
  const nobody = await runCli(['wait', '--url', `http://127.0.0.1:${port}`, '--timeout', '300ms']);
  t.equal(nobody.code, 1, 'not ready in time: 1');
  t.match(nobody.stderr, new RegExp(`http://127\\.0\\.0\\.1:${port} not ready within 300 ms`));
  t.equal((await runCli(['wait', '--timeout', 'soon'])).code, 2, 'a bad --timeout: 2');
  t.equal((await runCli(['wait', '--url', 'ftp://x'])).code, 2, 'a bad --url: 2');

  const port2 = Number(new URL(proc.url).port);
  const withAdmin = join(dir, 'admin.yaml');
  await writeFile(withAdmin, `listen: { port: 1 }\nadmin: { host: 127.0.0.1, port: ${port2} }\nclients:\n  - { name: a, clientId: id, clientSecret: s }\n`);
  const fromConfig = await runCli(['wait', '--config', withAdmin, '--timeout', '20s']);
  t.equal(fromConfig.code, 0, `the configuration's admin listener: ${fromConfig.stderr}`);
  t.match(fromConfig.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port2} is ready`));
});

function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}

