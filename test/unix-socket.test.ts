/**
 * The main listener on a Unix-domain socket (listen.socket, --socket): the file's mode from the
 * moment it exists, forwarding and Host checks through it, stale and live sockets, files that
 * are not sockets, cleanup at exit, and the configuration rules.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { lstatSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig, parseConfig } from '../src/config/index.ts';
import { listenOnUnixSocket, SocketListenError } from '../src/server/index.ts';
import { MAIN, runCli, startProcess, writeServeConfig } from './helpers/cli.ts';
import { configFor, DEMO_SECRET, emulator, proxy, type Tap } from './helpers/index.ts';

/** A fresh directory under the system's temp dir (short: a socket path has at most 107 bytes), removed at teardown. */
function socketDir(t: Tap): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'glp-sock-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One request over the socket, on a connection of its own. */
function overSocket(socketPath: string, urlPath: string, options: { method?: string; host?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request({ socketPath, path: urlPath, method: options.method ?? 'GET', agent: false, headers: { host: options.host ?? 'localhost' } }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

function modeOf(file: string): number {
  return statSync(file).mode & 0o777;
}

const HEALTHCHECK = new URL('../src/cli/healthcheck.js', import.meta.url).pathname;

function runProgram(file: string, args: readonly string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [file, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout }));
}

/** A socket file nobody listens on any more, as a killed proxy leaves it. */
async function staleSocket(t: Tap, file: string): Promise<void> {
  const server = net.createServer();
  const live = `${file}.live`;
  await new Promise<void>((resolve) => server.listen(live, resolve));
  linkSync(live, file);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  t.ok(lstatSync(file).isSocket() && !existsSync(live), 'a stale socket file is in place');
}

async function refusalOf(start: Promise<unknown>): Promise<SocketListenError> {
  const error = await start.then(() => undefined, (e: unknown) => e);
  if (!(error instanceof SocketListenError)) throw new Error(`expected a SocketListenError, got ${String(error)}`);
  return error;
}

function problemsOf(raw: Record<string, unknown>): readonly string[] {
  try {
    parseConfig(raw, {}, 'test');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const CLIENT = { name: 'a', clientId: 'i', clientSecret: 'not-a-real-secret' };

t.test('on a socket: exactly its mode from the moment it exists, forwarding to the emulator, Host checks, removed at close', async (t) => {
  const emu = await emulator(t);
  const dir = socketDir(t);
  for (const [mode, expected] of [[undefined, 0o600], ['0640', 0o640]] as const) {
    const file = path.join(dir, `p${expected.toString(8)}.sock`);
    const umask = process.umask();
    const gw = await proxy(t, configFor(emu, { listen: { socket: file, ...(mode !== undefined && { mode }) } }));
    t.equal(gw.url, `unix:${file}`, 'the listener is named unix:PATH');
    t.equal(modeOf(file), expected, `mode 0${expected.toString(8)}`);
    t.equal(process.umask(), umask, 'the process umask is restored');
    t.ok(gw.logs.some((line) => line.includes(`"url":"unix:${file}"`) && line.includes('greenlake-proxy listening')), 'the start line names unix:PATH');

    const servers = await overSocket(file, '/com/us-west/compute-ops-mgmt/v1/servers?limit=2');
    t.equal(servers.status, 200, servers.body);
    t.equal((JSON.parse(servers.body) as { items: unknown[] }).items.length, 2, 'the emulator answered through the socket');
    const evil = await overSocket(file, '/com/us-west/compute-ops-mgmt/v1/servers', { host: 'evil.example' });
    t.equal(evil.status, 403);
    t.match(JSON.parse(evil.body), { errorCode: 'GREENLAKE_PROXY_HOST_NOT_ALLOWED' }, 'a foreign Host header is refused over the socket too');

    await gw.gateway.close(0);
    t.notOk(existsSync(file), 'the socket file is removed at close');
  }
});

t.test('the socket is never more open than its mode: at its first "listening" event it already has it', async (t) => {
  const dir = socketDir(t);
  const file = path.join(dir, 'early.sock');
  const server = net.createServer();
  t.teardown(() => server.close());
  let atListening = -1;
  // Registered before listenOnUnixSocket's own handler (and its chmod): sees the mode bind(2) gave.
  server.once('listening', () => (atListening = modeOf(file)));
  const previous = process.umask(0o000);
  try {
    t.equal(await listenOnUnixSocket(server, { path: file, mode: 0o600 }), `unix:${file}`);
  } finally {
    process.umask(previous);
  }
  t.equal(atListening, 0o600, 'created 0600 under a umask of 000, not widened first and narrowed later');
});

t.test('a stale socket file is replaced; a live one, a file, a directory or a symlink is refused and left intact', async (t) => {
  const emu = await emulator(t);
  const dir = socketDir(t);

  const stale = path.join(dir, 'stale.sock');
  await staleSocket(t, stale);
  const gw = await proxy(t, configFor(emu, { listen: { socket: stale } }));
  t.equal((await overSocket(stale, '/dscc/us1/api/v1/volumes')).status, 200, 'serving on the replaced socket');
  await gw.gateway.close(0);

  const live = path.join(dir, 'live.sock');
  // The proxy's knock connects and hangs up at once: that connection's reset is no concern here.
  const other = net.createServer((socket) => socket.on('error', () => {}).end('other program\n'));
  await new Promise<void>((resolve) => other.listen(live, resolve));
  t.teardown(() => other.close());
  const inUse = await refusalOf(proxy(t, configFor(emu, { listen: { socket: live } })));
  t.equal(inUse.code, 'GREENLAKE_PROXY_SOCKET_IN_USE');
  t.match(inUse.message, `${live} is already in use: a process answers on it`);
  const still = net.connect(live);
  const [greeting] = (await once(still, 'data')) as [Buffer];
  still.destroy();
  t.equal(greeting.toString(), 'other program\n', 'the other program still answers on its socket');

  const regular = path.join(dir, 'notes.txt');
  writeFileSync(regular, 'keep me');
  const folder = path.join(dir, 'folder');
  mkdirSync(folder);
  const link = path.join(dir, 'link.sock');
  const target = path.join(dir, 'target.sock');
  await staleSocket(t, target);
  symlinkSync(target, link);
  for (const [file, kind] of [[regular, 'a regular file'], [folder, 'a directory'], [link, 'a symbolic link']] as const) {
    const refused = await refusalOf(proxy(t, configFor(emu, { listen: { socket: file } })));
    t.equal(refused.code, 'GREENLAKE_PROXY_SOCKET_NOT_A_SOCKET', kind);
    t.match(refused.message, `${file} exists and is ${kind}, not a socket: refusing to replace it`);
  }
  t.equal(readFileSync(regular, 'utf8'), 'keep me', 'the regular file is untouched');
  t.ok(statSync(folder).isDirectory(), 'the directory is still there');
  t.ok(lstatSync(link).isSymbolicLink() && lstatSync(target).isSocket(), 'the link and the socket it points at are still there');

  const nowhere = path.join(dir, 'missing', 'p.sock');
  const noDir = await refusalOf(proxy(t, configFor(emu, { listen: { socket: nowhere } })));
  t.equal(noDir.code, 'GREENLAKE_PROXY_SOCKET_NO_DIRECTORY');
  t.match(noDir.message, `its directory ${path.dirname(nowhere)} does not exist`);
});

t.test('serve --socket: exit 2 with a message when the socket is taken; the file is removed after SIGTERM, SIGINT and POST /-/quit', async (t) => {
  const emu = await emulator(t);
  const dir = socketDir(t);
  const config = await writeServeConfig(dir, emu);
  const file = path.join(dir, 'serve.sock');
  const env = { SECRET: DEMO_SECRET };

  for (const stop of ['SIGTERM', 'SIGINT', 'POST /-/quit'] as const) {
    const proc = startProcess(t, process.execPath, [MAIN, 'serve', '--config', config, '--socket', file], env);
    await proc.waitForLog(new RegExp(`"url":"unix:${file}".*"msg":"greenlake-proxy listening"`));
    t.equal(modeOf(file), 0o600, `${stop}: the default mode`);
    t.equal((await overSocket(file, '/dscc/us1/api/v1/volumes')).status, 200, `${stop}: forwarding`);
    if (stop === 'POST /-/quit') {
      const quit = await overSocket(file, '/-/quit', { method: 'POST' });
      t.equal(quit.status, 202, `quit is accepted from the socket: ${quit.body}`);
      if (quit.status !== 202) proc.child.kill('SIGTERM');
    } else proc.child.kill(stop);
    const [code] = await proc.exited;
    t.equal(code, 0, `${stop}: exit 0`);
    t.notOk(existsSync(file), `${stop}: the socket file is gone`);
  }

  const first = startProcess(t, process.execPath, [MAIN, 'serve', '--config', config, '--socket', file], env);
  await first.waitForLog(/greenlake-proxy listening/);
  const second = await runCli(['serve', '--config', config, '--socket', file], env);
  t.equal(second.code, 2, 'a second proxy on the same socket: exit 2');
  t.match(second.stderr, `greenlake-proxy: ${file} is already in use: a process answers on it (another proxy running?)`);
  t.equal((await overSocket(file, '/dscc/us1/api/v1/volumes')).status, 200, 'the first one still serves');

  const waited = await runCli(['wait', '--url', `unix:${file}`, '--timeout', '20s']);
  t.equal(waited.code, 0, waited.stderr);
  t.match(waited.stdout, `greenlake-proxy at unix:${file} is ready`);
  const health = await runProgram(HEALTHCHECK, ['--', 'serve', '--config', config, '--socket', file], env);
  t.equal(health.code, 0, 'the container HEALTHCHECK asks the socket');
  t.match(health.stdout, `healthy: main unix:${file} 200`);
  first.child.kill('SIGTERM');
  await first.exited;

  const regular = path.join(dir, 'taken.txt');
  writeFileSync(regular, 'keep me');
  const onFile = await runCli(['serve', '--config', config, '--socket', regular], env);
  t.equal(onFile.code, 2, 'a regular file at the path: exit 2');
  t.match(onFile.stderr, 'is a regular file, not a socket: refusing to replace it');
  t.equal(readFileSync(regular, 'utf8'), 'keep me');
});

t.test('listen.mode: octal as the user wrote it, in YAML, JSON or code; nonsense refused naming listen.mode', async (t) => {
  const dir = socketDir(t);
  const socket = path.join(dir, 'm.sock');
  const yaml = async (line: string): Promise<number | undefined> => {
    const file = path.join(dir, 'proxy.yaml');
    writeFileSync(file, `listen:\n  socket: ${socket}\n  ${line}\nclients: [{ name: a, clientId: i, clientSecret: s }]\n`);
    return (await loadConfig({ file, env: {} })).listen.socket?.mode;
  };
  t.equal(await yaml('mode: 0600'), 0o600, 'YAML 0600 (the integer 600 to YAML 1.2)');
  t.equal(await yaml('mode: 0o660'), 0o660, 'YAML 0o660 (the integer 432 to YAML 1.2)');
  t.equal(await yaml('mode: "0640"'), 0o640, 'a quoted string');
  t.equal(await yaml('mode: 700'), 0o700, 'digits without the leading 0');
  t.equal(await yaml('# no mode'), 0o600, 'default 0600');
  const json = path.join(dir, 'proxy.json');
  writeFileSync(json, JSON.stringify({ listen: { socket, mode: 660 }, clients: [CLIENT] }));
  t.equal((await loadConfig({ file: json, env: {} })).listen.socket?.mode, 0o660, 'JSON 660: its decimal digits read as octal');

  const refused = (mode: unknown): readonly string[] => problemsOf({ listen: { socket, mode }, clients: [CLIENT] });
  t.strictSame(refused('rw-------'), ['listen.mode: must be octal permission digits such as 0600 (owner only) or 0660 (owner and group)']);
  t.strictSame(refused(384), ['listen.mode: must be octal permission digits such as 0600 (owner only) or 0660 (owner and group)'], 'an integer with an 8 or 9 in it');
  t.strictSame(refused(true), ['listen.mode: must be octal permission digits such as 0600 (owner only) or 0660 (owner and group)']);
  t.strictSame(refused('1777'), ['listen.mode: must be permission bits from 0600 to 0777 (no setuid, setgid or sticky bit)']);
  t.strictSame(refused('0400'), ['listen.mode: must let its owner read and write the socket (0600 at least)']);
  t.strictSame(problemsOf({ listen: { mode: '0600' }, clients: [CLIENT] }), ['listen.mode: only with listen.socket']);
});

t.test('listen.socket replaces host:port: beside them, beside tls or route ports it is refused; a path too long for a socket too', async (t) => {
  const socket = path.join(tmpdir(), 'p.sock');
  t.strictSame(problemsOf({ listen: { socket, port: 8080 }, clients: [CLIENT] }), [
    'listen.port: not with listen.socket: the main listener serves on the socket instead of TCP (leave one of them out)',
  ]);
  t.strictSame(problemsOf({ listen: { socket }, clients: [CLIENT], routes: [{ port: 9001, upstream: 'http://127.0.0.1:1' }] }), [
    'routes[0].port: not with listen.socket: route ports listen on TCP (serve the route by its prefix on the socket)',
  ]);
  t.strictSame(problemsOf({ listen: { socket: `/tmp/${'x'.repeat(103)}` }, clients: [CLIENT] }), [
    'listen.socket: too long for a Unix socket: at most 107 bytes as an absolute path (choose a shorter one)',
  ]);
  t.same(parseConfig({ listen: { socket: `/tmp/${'x'.repeat(102)}` }, clients: [CLIENT] }, {}, 'test').listen.socket?.path.length, 107, '107 bytes fit');
  t.strictSame(problemsOf({ listen: { socket }, clients: [CLIENT], admin: { port: 8080 } }), [], 'the admin listener may take 8080: the main one has no port');
});

t.test('a socket other users may open needs inbound authentication, like a listener beyond loopback', async (t) => {
  const socket = path.join(tmpdir(), 'p.sock');
  const [open] = problemsOf({ listen: { socket, mode: '0666' }, clients: [CLIENT] });
  t.match(open, /^listen\.mode: lets every user of this machine connect to the socket .*--allow-unauthenticated/);
  t.strictSame(problemsOf({ listen: { socket, mode: '0604' }, clients: [CLIENT] }).length, 1, 'any bit for others counts');
  t.strictSame(problemsOf({ listen: { socket, mode: '0660' }, clients: [CLIENT] }), [], 'owner and group: like loopback');
  const keys = { apiKeys: [{ name: 'ci', keyHash: `sha256:${'a'.repeat(64)}`, clients: ['a'] }] };
  t.strictSame(problemsOf({ listen: { socket, mode: '0666' }, inbound: keys, clients: [CLIENT] }), [], 'with API keys');
  const dir = socketDir(t);
  const file = path.join(dir, 'open.yaml');
  writeFileSync(file, `listen: { socket: ${socket}, mode: 0666 }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n`);
  t.equal((await loadConfig({ file, env: {}, overrides: { allowUnauthenticated: true } })).listen.socket?.mode, 0o666, 'with --allow-unauthenticated');
  const cli = await runCli(['check', '--config', file]);
  t.equal(cli.code, 2, 'check refuses it');
  t.match(cli.stderr, 'listen.mode: lets every user of this machine connect');
});

t.test('GREENLAKE_PROXY_SOCKET and --socket replace the file\'s host:port; host or port never replace the file\'s socket', async (t) => {
  const dir = socketDir(t);
  const tcp = path.join(dir, 'tcp.yaml');
  writeFileSync(tcp, 'listen: { host: 127.0.0.1, port: 9000 }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n');
  const socket = path.join(dir, 'env.sock');
  const byEnv = await loadConfig({ file: tcp, env: { GREENLAKE_PROXY_SOCKET: socket } });
  t.equal(byEnv.listen.socket?.path, socket);
  t.strictSame(byEnv.listenOverrides, [{ key: 'listen.socket', value: socket, setBy: 'GREENLAKE_PROXY_SOCKET', fileValue: '127.0.0.1:9000' }]);
  const byFlag = await loadConfig({ file: tcp, env: { GREENLAKE_PROXY_HOST: '0.0.0.0' }, overrides: { socket: 'rel.sock' } });
  t.equal(byFlag.listen.socket?.path, path.resolve('rel.sock'), '--socket: relative to the working directory; the environment\'s host is dropped');

  const onSocket = path.join(dir, 'sock.yaml');
  writeFileSync(onSocket, 'listen: { socket: file.sock }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n');
  const image = await loadConfig({ file: onSocket, env: { GREENLAKE_PROXY_HOST: '0.0.0.0', GREENLAKE_PROXY_PORT: '8080' } });
  t.equal(image.listen.socket?.path, path.join(dir, 'file.sock'), 'the file\'s socket stays (relative to the file), under the image\'s ENV');
  t.strictSame(image.listenIgnored, ['GREENLAKE_PROXY_HOST', 'GREENLAKE_PROXY_PORT'], 'and what was not used is listed for the start log');

  const both = await runCli(['serve', '--config', tcp, '--socket', socket, '--port', '0']);
  t.equal(both.code, 2);
  t.match(both.stderr, '--socket: not with --host or --port');
  const bothEnv = await runCli(['check', '--config', tcp], { GREENLAKE_PROXY_SOCKET: socket, GREENLAKE_PROXY_PORT: '1' });
  t.equal(bothEnv.code, 2);
  t.match(bothEnv.stderr, 'GREENLAKE_PROXY_SOCKET: not with GREENLAKE_PROXY_HOST or GREENLAKE_PROXY_PORT');
});
