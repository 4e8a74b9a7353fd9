// serve, demo and emulator as processes: ports in use, log formats, terminals and signals, wait.
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { createLogger } from '../src/server/index.ts';
import { MAIN, runCli, startProcess, startServe, writeServeConfig } from './helpers/cli.ts';
import { assertNoCredentialsIn, call, client, emulator, eventually, tokensSeenBy, type Tap } from './helpers/index.ts';


/** A port some other program already listens on, closed at teardown. */
async function takenPort(t: Tap): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  return (server.address() as { port: number }).port;
}

/** No stack trace, one line of error (plus the hint line of a usage error). */
function oneLine(t: Tap, stderr: string): void {
  t.notMatch(stderr, /^\s+at /m, 'no stack trace');
  t.ok(stderr.trim().split('\n').length <= 2, `at most two lines: ${stderr}`);
}

t.test('serve: requests flow, SIGTERM drains in-flight requests and exits 0, logs hold no credentials', async (t) => {
  const emu = await emulator(t);
  const file = await writeServeConfig(t.testdir({}), emu);
  const proc = await startServe(t, file, { LOG_LEVEL: 'debug' });
  const http = client(t);
  t.equal((await call(http, `${proc.url}/dscc/us1/api/v1/volumes`)).status, 200);

  emu.setApiFault({ kind: 'delay', ms: 1000 });
  const slow = call(http, `${proc.url}/dscc/us1/api/v1/storage-systems`);
  await eventually('the slow request reached the upstream', () => emu.apiRequests.length >= 2);
  proc.child.kill('SIGTERM');
  const [[code]] = await Promise.all([proc.exited, slow.then((r) => t.equal(r.status, 200, 'the in-flight request finished'))]);
  t.equal(code, 0, 'exit status 0 after SIGTERM');
  const logs = proc.logs();
  t.match(logs, /"msg":"request"/, 'one log line per request');
  t.match(logs, /"route":"\/dscc\/us1"/);
  t.match(logs, /"reqId":"/);
  assertNoCredentialsIn(t, [logs], [DEMO_CLIENT.clientSecret, ...tokensSeenBy(emu)]);
});

t.test('a port already in use: exit 2, one line naming the address and how to choose another', async (t) => {
  const port = String(await takenPort(t));
  const env = { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 'not-printed-secret' };
  for (const [command, hint] of [
    ['serve', /--port PORT or GREENLAKE_PROXY_PORT/],
    ['demo', /--port PORT or GREENLAKE_PROXY_PORT/],
    ['emulator', /--port PORT/],
  ] as const) {
    const res = await runCli([command, '--port', port], env);
    t.equal(res.code, 2, `${command}: exit 2`);
    t.match(res.stderr, new RegExp(`127\\.0\\.0\\.1:${port} is already in use`), `${command}: names the address`);
    t.match(res.stderr, hint, `${command}: how to choose another`);
    oneLine(t, res.stderr);
  }
  const fromEnv = await runCli(['serve'], { ...env, GREENLAKE_PROXY_PORT: port });
  t.equal(fromEnv.code, 2, 'the port from GREENLAKE_PROXY_PORT too');
  t.notMatch(fromEnv.stderr + fromEnv.stdout, /not-printed-secret/);
});

t.test('LOG_LEVEL that pino does not know: exit 2 naming the accepted values, no stack trace', async (t) => {
  for (const command of [['serve', '--port', '0'], ['demo', '--port', '0'], ['token']]) {
    const res = await runCli(command, { LOG_LEVEL: 'verbose', GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 's' });
    t.equal(res.code, 2, command.join(' '));
    t.match(res.stderr, /LOG_LEVEL: unknown level "verbose"; accepted: fatal, error, warn, info, debug, trace, silent/);
    oneLine(t, res.stderr);
  }
});

t.test('logs: readable lines with --log-format pretty, JSON by default when stdout is not a terminal', async (t) => {
  const emu = await emulator(t);
  const file = await writeServeConfig(t.testdir({}), emu);
  const json = await startServe(t, file);
  t.match(json.logs(), /^\{"level":"info".*"msg":"greenlake-proxy listening"/m, 'JSON on a pipe');
  json.child.kill('SIGTERM');
  await json.exited;

  const pretty = startProcess(t, process.execPath, [MAIN, 'serve', '--config', file, '--port', '0', '--log-format', 'pretty'], {
    SECRET: DEMO_CLIENT.clientSecret,
    LOG_LEVEL: 'trace',
  });
  const url = (await pretty.waitForLog(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}greenlake-proxy listening url=(http:\/\/127\.0\.0\.1:\d+)/m))[1]!;
  const http = client(t);
  const answer = await call(http, `${url}/dscc/us1/api/v1/volumes`, { headers: { authorization: 'Bearer CALLER-SENT-TOKEN' } });
  t.equal(answer.status, 200);
  await pretty.waitForLog(/INFO {2}request /);
  pretty.child.kill('SIGTERM');
  await pretty.exited;
  t.notMatch(pretty.logs(), /^\{/m, 'no JSON line');
  assertNoCredentialsIn(t, [pretty.logs()], [DEMO_CLIENT.clientSecret, 'CALLER-SENT-TOKEN', ...tokensSeenBy(emu)]);
});

t.test('pretty log lines are redacted like JSON ones', async (t) => {
  let out = '';
  const sink = new Writable({ write: (chunk: Buffer, _e, done) => ((out += chunk.toString()), done()) });
  const logger = createLogger('info', sink, { format: 'pretty' });
  logger.info({ clientSecret: 'PRETTY-SECRET-1', token: 'PRETTY-TOKEN-2', headers: { authorization: 'Bearer PRETTY-3' }, client: 'team' }, 'fetched');
  await eventually('the line is written', () => out.includes('fetched'));
  t.match(out, /INFO {2}fetched clientSecret=\[redacted\] token=\[redacted\] headers=\{"authorization":"\[redacted\]"\} client=team\n$/);
  t.notMatch(out, /PRETTY-/);
});

