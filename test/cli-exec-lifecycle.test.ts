// greenlake-proxy exec -- COMMAND: signals and exit statuses, the proxy's drain and stop, a proxy
// that cannot start running nothing, stdout left to the child. Its environment: cli-exec.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { isRunning, MAIN, startProcess, underTerminal } from './helpers/cli.ts';
import { exec, execCommand, hasScript, killGroup, SECRET, writeConfig, zeroConfig } from './helpers/exec.ts';
import { call, client, emulator, eventually, freePort } from './helpers/index.ts';

t.test('exit status: the child\'s, or 128 + the signal that killed it', async (t) => {
  for (const status of [0, 3, 42]) {
    const run = await exec(t, [], `process.exit(${status})`, zeroConfig());
    t.equal(run.code, status, `exit ${status}: ${run.stderr}`);
  }
  t.equal((await exec(t, [], 'process.kill(process.pid, "SIGKILL")', zeroConfig())).code, 137, 'killed by SIGKILL: 128 + 9');
  t.equal((await exec(t, [], 'process.kill(process.pid, "SIGTERM")', zeroConfig())).code, 143, 'killed by SIGTERM: 128 + 15');
});

t.test('signals sent to exec reach the child, in order; exec keeps running until the child exits, with its status', async (t) => {
  const dir = t.testdir({});
  const marker = join(dir, 'signals');
  const signals = ['SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const;
  const script = `
const fs = require('node:fs');
for (const s of ${JSON.stringify(signals)}) process.on(s, () => fs.appendFileSync(${JSON.stringify(marker)}, s + '\\n'));
process.on('SIGTERM', () => { fs.appendFileSync(${JSON.stringify(marker)}, 'SIGTERM\\n'); process.exit(7); });
fs.writeFileSync(${JSON.stringify(marker)}, 'ready\\n');
setInterval(() => {}, 1000);
`;
  const proc = startProcess(t, process.execPath, [MAIN, 'exec', '--', process.execPath, '-e', script], zeroConfig());
  t.teardown(() => killGroup(proc.child.pid!));
  const lines = (): string[] => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);
  await eventually('the child is ready', () => lines().includes('ready'), 20_000);
  for (const signal of signals) {
    proc.child.kill(signal);
    await eventually(`${signal} reaches the child`, () => lines().includes(signal));
  }
  proc.child.kill('SIGTERM');
  const [code] = await proc.exited;
  t.equal(code, 7, 'exec exits with the child\'s status after SIGTERM, not with its own');
  t.same(lines(), ['ready', ...signals, 'SIGTERM'], 'each signal reached the child once, in order');
  t.equal(proc.stdout(), '', 'exec wrote nothing on stdout');
});

t.test('from a terminal, Ctrl-C reaches the child once: exec does not send it a second time', { skip: hasScript() ? false : 'no util-linux script here' }, async (t) => {
  const dir = t.testdir({});
  const marker = join(dir, 'signals');
  // SIGUSR1 (forwarded) comes after exec saw the Ctrl-C: by then a forwarded SIGINT would be in.
  const script = `
const fs = require('node:fs');
let count = 0;
process.on('SIGINT', () => { count++; fs.appendFileSync(${JSON.stringify(marker)}, 'SIGINT\\n'); });
process.on('SIGUSR1', () => process.exit(count));
fs.writeFileSync(${JSON.stringify(marker)}, 'ready\\n');
setInterval(() => {}, 1000);
`;
  const term = underTerminal(t, ['exec', '--', process.execPath, '-e', script], zeroConfig());
  const lines = (): string[] => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean) : []);
  await eventually('the child is ready', () => lines().includes('ready'), 20_000);
  term.script.stdin.write('\x03');
  await eventually('Ctrl-C reaches the child', () => lines().includes('SIGINT'));
  process.kill(term.commandPid(), 'SIGUSR1');
  const [code] = await term.exited;
  t.equal(code, 1, `the child counted one SIGINT: ${term.output()}`);
});

t.test('when the child exits, the proxy finishes in-flight requests, then stops: its ports refuse connections', { timeout: 60_000 }, async (t) => {
  const emu = await emulator(t);
  // An upstream that answers only when told: a request in flight for as long as the test wants.
  const held: ServerResponse[] = [];
  const upstream = createHttpServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  t.teardown(() => upstream.close());
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const port = await freePort();
  const dir = t.testdir({});
  const file = await writeConfig(dir, emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}", port: ${port} }`, `  - { prefix: /held, upstream: "${upstreamUrl}" }`]);
  const marker = join(dir, 'urls');
  const script = `
process.on('SIGTERM', () => process.exit(0));
require('node:fs').writeFileSync(${JSON.stringify(marker)}, JSON.stringify([process.env.GREENLAKE_PROXY_URL, process.env.GREENLAKE_PROXY_URL_PORT_${port}]));
setInterval(() => {}, 1000);
`;
  const proc = startProcess(t, process.execPath, [MAIN, 'exec', '--config', file, '--', process.execPath, '-e', script], { ...zeroConfig(), SECRET, LOG_LEVEL: 'info' });
  t.teardown(() => killGroup(proc.child.pid!));
  await eventually('the child is running', () => existsSync(marker), 20_000);
  const [main, ported] = JSON.parse(readFileSync(marker, 'utf8')) as [string, string];
  const inFlight = call(client(t), `${main}/held/slow`);
  await eventually('the request reached the upstream', () => held.length === 1);
  proc.child.kill('SIGTERM');
  await proc.waitForLog(/the command has ended; finishing in-flight requests/);
  t.ok(isRunning(proc.child.pid!), 'exec waits for the request in flight');
  held[0]!.end('done');
  t.equal((await inFlight).text, 'done', 'which got its answer');
  const [code] = await proc.exited;
  t.equal(code, 0, 'then exec exits with the child\'s status');
  await t.rejects(call(client(t), `${main}/-/healthz`), { code: 'ECONNREFUSED' }, 'the main port is closed');
  await t.rejects(call(client(t), `${ported}/api/v1/volumes`), { code: 'ECONNREFUSED' }, 'the route port too');
});

t.test('a proxy that cannot start runs nothing: exit 2 and why', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({});
  const marker = join(dir, 'ran');
  const child = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`;
  const file = await writeConfig(dir, emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`]);
  const missingFile = join(dir, 'missing.yaml');
  await writeFile(missingFile, `clients:\n  - { name: a, clientId: id, clientSecretFile: ${join(dir, 'no-such-secret')} }\n`);
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const takenPort = String((taken.address() as { port: number }).port);
  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['a ${SECRET} that is not set', ['--config', file], {}, /clients\[0\]\.clientSecret: environment variable SECRET is not set/],
    ['a secret file that is not there', ['--config', missingFile], {}, /clientSecretFile: cannot read .*no-such-secret \(ENOENT\)/],
    ['no configuration at all', [], {}, /no configuration/],
    ['a port in use', ['--config', file, '--port', takenPort], { SECRET }, new RegExp(`127\\.0\\.0\\.1:${takenPort} is already in use`)],
    ['an --url-env naming no route', ['--config', file, '--url-env', 'X=/nope'], { SECRET }, /--url-env X=\/nope: no route has that prefix/],
  ];
  for (const [label, args, env, message] of cases) {
    const run = await exec(t, args, child, env);
    t.equal(run.code, 2, `${label}: exit 2`);
    t.match(run.stderr, message, `${label}: says why`);
    t.notOk(existsSync(marker), `${label}: the command never ran`);
  }
});

t.test('a command that is not there: 127; one that cannot run: 126; no command: usage, 2', async (t) => {
  const dir = t.testdir({ 'not-executable': '#!/bin/sh\necho no\n' });
  await chmod(join(dir, 'not-executable'), 0o644);
  const missing = await execCommand(t, [], ['greenlake-proxy-no-such-command'], zeroConfig());
  t.equal(missing.code, 127);
  t.match(missing.stderr, /greenlake-proxy-no-such-command: command not found/);
  const notRunnable = await execCommand(t, [], [join(dir, 'not-executable')], zeroConfig());
  t.equal(notRunnable.code, 126);
  t.match(notRunnable.stderr, /not-executable: cannot run it/);
  for (const [args, message] of [
    [['exec'], /exec: no command/],
    [['exec', '--'], /exec: no command/],
    [['exec', 'ls'], /exec: put -- before the command/],
    [['serve', '--', 'ls'], /serve: unexpected argument/],
  ] as const) {
    const run = spawnSync(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...zeroConfig() }, encoding: 'utf8' });
    t.equal(run.status, 2, `${args.join(' ')}: 2`);
    t.match(run.stderr, message);
  }
  const help = spawnSync(process.execPath, [MAIN, 'help', 'exec'], { encoding: 'utf8' });
  t.match(help.stdout, /^Usage: greenlake-proxy exec \[options\] -- COMMAND \[ARGS\]/, 'help exec: the usage line has the command');
  t.match(help.stdout, /GREENLAKE_PROXY_URL_COM_US_WEST/, 'and the naming rule');
  t.match(help.stdout, /Exit status: the command's, 128 \+ N/, 'and its own exit statuses');
});

t.test('the child\'s stdout is exactly what it wrote: the proxy logs on stderr, even at LOG_LEVEL=debug', async (t) => {
  const emu = await emulator(t);
  const file = await writeConfig(t.testdir({}), emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`]);
  const bytes = [0x7b, 0x22, 0x6a, 0x73, 0x6f, 0x6e, 0x72, 0x70, 0x63, 0x22, 0x7d, 0x0a, 0x00, 0xff, 0x0d];
  const script = `(async () => { const r = await fetch(process.env.GREENLAKE_PROXY_URL_DSCC_US1 + '/api/v1/volumes'); await r.arrayBuffer(); process.stdout.write(Buffer.from(${JSON.stringify(bytes)})); })()`;
  const quiet = await exec(t, ['--config', file], script, { SECRET });
  t.same([...quiet.stdout], bytes, 'byte for byte');
  t.equal(quiet.stderr, '', 'and at the default level exec says nothing on stderr either');
  const chatty = await exec(t, ['--config', file], script, { SECRET, LOG_LEVEL: 'debug' });
  t.same([...chatty.stdout], bytes, 'LOG_LEVEL=debug: still byte for byte');
  t.match(chatty.stderr, /greenlake-proxy listening/, 'the logs went to stderr');
});
