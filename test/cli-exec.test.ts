// greenlake-proxy exec -- COMMAND: the environment its child sees, what it reaches through it,
// signals and exit statuses, and a proxy that cannot start running nothing.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_CLIENT, type Emulator } from '../src/emulator/index.ts';
import { isRunning, MAIN, startProcess, underTerminal } from './helpers/cli.ts';
import { call, client, emulator, eventually, freePort, tokensSeenBy, type Tap } from './helpers/index.ts';

const SECRET = DEMO_CLIENT.clientSecret;

interface ExecRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** `greenlake-proxy exec ARGS -- node -e SCRIPT` to its end, stdout kept as bytes. */
async function exec(args: readonly string[], script: string, env: Record<string, string> = {}): Promise<ExecRun> {
  return execCommand(args, [process.execPath, '-e', script], env);
}

async function execCommand(args: readonly string[], command: readonly string[], env: Record<string, string> = {}): Promise<ExecRun> {
  const child = spawn(process.execPath, [MAIN, 'exec', ...args, '--', ...command], { env: { PATH: process.env.PATH ?? '', ...env } });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(stdout), stderr };
}

/** The emulator's client (secret from ${SECRET}), the given routes, then `extra` top-level YAML lines. */
async function writeConfig(dir: string, emu: Emulator, routes: readonly string[], extra: readonly string[] = [], name = 'proxy.yaml'): Promise<string> {
  const file = join(dir, name);
  const lines = ['clients:', '  - name: team', `    clientId: ${DEMO_CLIENT.clientId}`, '    clientSecret: ${SECRET}', `    tokenUrl: ${emu.tokenUrl}`, 'routes:', ...routes, ...extra, ''];
  await writeFile(file, lines.join('\n'));
  return file;
}

/** A child that GETs each URL (with the headers given) and prints {url: status}, and its GREENLAKE_PROXY_* variables. */
const FETCHER = `
const [urls, headers] = JSON.parse(process.argv[1]);
const statuses = {};
for (const name of urls) {
  const [variable, path, method] = name.split(' ');
  const res = await fetch(process.env[variable] + path, { method: method ?? 'GET', headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('$TOKEN', process.env.GREENLAKE_PROXY_TOKEN)])) });
  statuses[name] = res.status;
  await res.arrayBuffer();
}
const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GREENLAKE_PROXY_')));
process.stdout.write(JSON.stringify({ statuses, own }));
`;

interface Fetched {
  readonly statuses: Record<string, number>;
  readonly own: Record<string, string>;
}

async function fetchThrough(t: Tap, args: readonly string[], urls: readonly string[], headers: Record<string, string>, env: Record<string, string>): Promise<Fetched> {
  const run = await execCommand(args, [process.execPath, '--input-type=module', '-e', FETCHER, JSON.stringify([urls, headers])], env);
  t.equal(run.code, 0, `exec ran the child: ${run.stderr}`);
  return JSON.parse(run.stdout.toString()) as Fetched;
}

t.test('the child gets the proxy URL and one variable per route and per route port, and reaches GreenLake through them', async (t) => {
  const emu = await emulator(t);
  const configuredPort = await freePort();
  const file = await writeConfig(t.testdir({}), emu, [
    `  - { prefix: /dscc/us1, upstream: "${emu.url}" }`,
    `  - { prefix: /com/us-west, upstream: "${emu.url}", port: ${configuredPort} }`,
    `  - { port: ${configuredPort + 1}, upstream: "${emu.url}" }`,
  ]);
  const urls = [
    'GREENLAKE_PROXY_URL_DSCC_US1 /api/v1/volumes?limit=1',
    'GREENLAKE_PROXY_URL_COM_US_WEST /compute-ops-mgmt/v1/servers?limit=1',
    `GREENLAKE_PROXY_URL_PORT_${configuredPort} /compute-ops-mgmt/v1/servers?limit=1`,
    `GREENLAKE_PROXY_URL_PORT_${configuredPort + 1} /compute-ops-mgmt/v1/servers?limit=1`,
  ];
  const { statuses, own } = await fetchThrough(t, ['--config', file], urls, {}, { SECRET });
  t.same(Object.values(statuses), [200, 200, 200, 200], `every variable leads to its route, with no header at all: ${JSON.stringify(statuses)}`);
  const base = own['GREENLAKE_PROXY_URL']!;
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.equal(own['GREENLAKE_PROXY_URL_DSCC_US1'], `${base}/dscc/us1`);
  t.equal(own['GREENLAKE_PROXY_URL_COM_US_WEST'], `${base}/com/us-west`);
  const ported = own[`GREENLAKE_PROXY_URL_PORT_${configuredPort}`]!;
  t.match(ported, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.not(new URL(ported).port, String(configuredPort), 'a route port listens on a free port, not the configured one (a serve of the config may hold it)');
  t.equal(emu.apiRequests.length, 4, 'each request reached the emulator once');
  t.ok(tokensSeenBy(emu).length > 0 && tokensSeenBy(emu).every((token) => !token.startsWith('glproxy_')), 'with real tokens');
});

t.test('the client secret and every variable holding it are kept from the child; the rest of the environment passes', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({ 'secret.txt': `${SECRET}\n` });
  const file = await writeConfig(dir, emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`]);
  const env = {
    SECRET,
    COPY_OF_IT: SECRET,
    CURL_OPTS: `-u ${DEMO_CLIENT.clientId}:${SECRET}`,
    GREENLAKE_CLIENT_SECRET: 'another-secret-value',
    GREENLAKE_CLIENT_SECRET_FILE: join(dir, 'secret.txt'),
    GREENLAKE_PROXY_URL_STALE: 'http://from-an-outer-exec',
    HOME: '/home/someone',
    KEEP_ME: 'kept',
  };
  // The secret in two halves, neither of them the secret; a store whose Redis never answers (the
  // proxy starts degraded), its password from a variable of its own.
  const half = SECRET.length / 2;
  const withStore = join(dir, 'with-store.yaml');
  await writeFile(withStore, [
    'clients:',
    `  - { name: team, clientId: ${DEMO_CLIENT.clientId}, clientSecret: "\${SECRET_HEAD}\${SECRET_TAIL}", tokenUrl: "${emu.tokenUrl}" }`,
    `routes: [{ prefix: /dscc/us1, upstream: "${emu.url}" }]`,
    'store:',
    '  redis:',
    '    url: redis://:${REDIS_PASSWORD}@127.0.0.1:1',
    `    encryptionKey: ${Buffer.alloc(32, 7).toString('base64')}`,
    '',
  ].join('\n'));
  const halves = { SECRET_HEAD: SECRET.slice(0, half), SECRET_TAIL: SECRET.slice(half), REDIS_PASSWORD: 'redis-password-123', PASSWORD_COPY: 'redis-password-123' };
  for (const [label, config, more, gone] of [
    ['a config file', file, {}, []],
    ['a config file with store.redis', withStore, halves, Object.keys(halves)],
  ] as const) {
    const run = await exec(['--config', config], 'process.stdout.write(JSON.stringify(process.env))', { ...env, ...more });
    t.equal(run.code, 0, `${label}: ${run.stderr}`);
    const seen = JSON.parse(run.stdout.toString()) as Record<string, string>;
    for (const name of ['SECRET', 'COPY_OF_IT', 'CURL_OPTS', 'GREENLAKE_CLIENT_SECRET', 'GREENLAKE_CLIENT_SECRET_FILE', 'GREENLAKE_PROXY_URL_STALE', ...gone]) {
      t.notOk(name in seen, `${label}: ${name} is not in the child's environment`);
    }
    t.notMatch(JSON.stringify(seen), SECRET, `${label}: the secret's value is nowhere`);
    t.notMatch(JSON.stringify(seen), 'redis-password-123', `${label}: nor Redis's password`);
    t.equal(seen['KEEP_ME'], 'kept', `${label}: other variables pass`);
    t.equal(seen['HOME'], '/home/someone');
    t.ok(seen['PATH'], 'PATH passes');
  }

  // Zero-config: the secret from a file, which is read before the child starts.
  const zero = {
    GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId,
    GREENLAKE_CLIENT_SECRET_FILE: join(dir, 'secret.txt'),
    GREENLAKE_TOKEN_URL: emu.tokenUrl,
    GREENLAKE_PROXY_REDIS_KEY: Buffer.alloc(32, 9).toString('base64'),
    GREENLAKE_PROXY_REDIS_URL: 'redis://127.0.0.1:1',
    SAME_AS_FILE: SECRET,
  };
  const run = await exec(['--token-env', 'GREENLAKE_CLIENT_SECRET'], 'process.stdout.write(JSON.stringify(process.env))', zero);
  t.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout.toString()) as Record<string, string>;
  for (const name of ['GREENLAKE_CLIENT_SECRET_FILE', 'GREENLAKE_PROXY_REDIS_KEY', 'GREENLAKE_PROXY_REDIS_URL', 'SAME_AS_FILE']) t.notOk(name in seen, `zero-config: no ${name}`);
  t.equal(seen['GREENLAKE_CLIENT_ID'], DEMO_CLIENT.clientId, 'the client ID is no secret: it passes');
  t.match(seen['GREENLAKE_PROXY_TOKEN'], /^glproxy_/);
  t.equal(seen['GREENLAKE_CLIENT_SECRET'], seen['GREENLAKE_PROXY_TOKEN'], '--token-env: GREENLAKE_CLIENT_SECRET is the token, not the secret');
  t.match(seen['GREENLAKE_PROXY_URL_GLP_GLOBAL'], /^http:\/\/127\.0\.0\.1:\d+\/glp\/global$/, 'zero-config: every catalog route has its variable');
});

t.test('the token: worthless upstream; required with --require-token or inbound keys, traded for stand-ins, read-only with --read-only', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({});
  const file = await writeConfig(dir, emu, [`  - { prefix: /glp/global, upstream: "${emu.url}" }`]);
  const devices = 'GREENLAKE_PROXY_URL_GLP_GLOBAL /devices/v1/devices?limit=1';
  const bearer = { authorization: 'Bearer $TOKEN' };

  const open = await fetchThrough(t, ['--config', file], [devices], bearer, { SECRET });
  t.same(Object.values(open.statuses), [200], 'without inbound keys: the token works (any header does)');
  t.match(open.own['GREENLAKE_PROXY_TOKEN'], /^glproxy_/);
  t.notOk(tokensSeenBy(emu).includes(open.own['GREENLAKE_PROXY_TOKEN']!), 'GreenLake saw the real token, never ours');
  t.ok(tokensSeenBy(emu).length > 0);

  const required = await fetchThrough(t, ['--config', file, '--require-token'], [devices], {}, { SECRET });
  t.same(Object.values(required.statuses), [401], '--require-token: no token, 401');
  const shown = await fetchThrough(t, ['--config', file, '--require-token'], [devices], bearer, { SECRET });
  t.same(Object.values(shown.statuses), [200], '--require-token: with it, 200');

  const readOnly = await fetchThrough(t, ['--config', file, '--read-only'], [devices, 'GREENLAKE_PROXY_URL_GLP_GLOBAL /devices/v1/devices/x DELETE', 'GREENLAKE_PROXY_URL_GLP_GLOBAL /devices/v1/devices POST'], bearer, { SECRET });
  t.same(Object.values(readOnly.statuses), [200, 403, 403], '--read-only: GET passes, DELETE and POST get 403');
  t.notOk(emu.apiRequests.some((r) => r.method !== 'GET'), 'no write reached GreenLake');

  // What gl-mcp does: fetch its own token from <base>/authorization/v2/oauth2/<workspace>/token, with the token as its secret.
  const keyHash = `sha256:${'0'.repeat(64)}`;
  const withKeys = await writeConfig(dir, emu, [`  - { prefix: /glp/global, upstream: "${emu.url}" }`], ['inbound:', '  apiKeys:', `    - { name: alice, keyHash: "${keyHash}", clients: [team] }`], 'with-keys.yaml');
  const glMcp = `
const base = process.env.GREENLAKE_API_BASE_URL;
const bare = await fetch(base + '/devices/v1/devices');
const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'anything', client_secret: process.env.GREENLAKE_CLIENT_SECRET });
const answer = await (await fetch(base + '/authorization/v2/oauth2/0123456789abcdef0123456789abcdef/token', { method: 'POST', body: form })).json();
const res = await fetch(base + '/devices/v1/devices', { headers: { authorization: 'Bearer ' + answer.access_token } });
process.stdout.write(JSON.stringify({ bare: bare.status, standIn: answer.access_token, status: res.status, token: process.env.GREENLAKE_PROXY_TOKEN }));
`;
  const run = await execCommand(
    ['--config', withKeys, '--url-env', 'GREENLAKE_API_BASE_URL=/glp/global', '--token-env', 'GREENLAKE_CLIENT_SECRET'],
    [process.execPath, '--input-type=module', '-e', glMcp],
    { SECRET },
  );
  t.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout.toString()) as { bare: number; standIn: string; status: number; token: string };
  t.equal(seen.bare, 401, 'the configuration has inbound keys: exec asks for its token too');
  t.match(seen.standIn, /^glproxy_standin_/, 'the local token endpoint traded the token for a stand-in');
  t.equal(seen.status, 200, 'which works');
  t.notOk(tokensSeenBy(emu).includes(seen.standIn) || tokensSeenBy(emu).includes(seen.token), 'neither reached GreenLake');
});

t.test('exit status: the child\'s, or 128 + the signal that killed it', async (t) => {
  for (const status of [0, 3, 42]) {
    const run = await exec([], `process.exit(${status})`, zeroConfig());
    t.equal(run.code, status, `exit ${status}: ${run.stderr}`);
  }
  t.equal((await exec([], 'process.kill(process.pid, "SIGKILL")', zeroConfig())).code, 137, 'killed by SIGKILL: 128 + 9');
  t.equal((await exec([], 'process.kill(process.pid, "SIGTERM")', zeroConfig())).code, 143, 'killed by SIGTERM: 128 + 15');
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
    const run = await exec(args, child, env);
    t.equal(run.code, 2, `${label}: exit 2`);
    t.match(run.stderr, message, `${label}: says why`);
    t.notOk(existsSync(marker), `${label}: the command never ran`);
  }
});

t.test('a command that is not there: 127; one that cannot run: 126; no command: usage, 2', async (t) => {
  const dir = t.testdir({ 'not-executable': '#!/bin/sh\necho no\n' });
  await chmod(join(dir, 'not-executable'), 0o644);
  const missing = await execCommand([], ['greenlake-proxy-no-such-command'], zeroConfig());
  t.equal(missing.code, 127);
  t.match(missing.stderr, /greenlake-proxy-no-such-command: command not found/);
  const notRunnable = await execCommand([], [join(dir, 'not-executable')], zeroConfig());
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
  const quiet = await exec(['--config', file], script, { SECRET });
  t.same([...quiet.stdout], bytes, 'byte for byte');
  t.equal(quiet.stderr, '', 'and at the default level exec says nothing on stderr either');
  const chatty = await exec(['--config', file], script, { SECRET, LOG_LEVEL: 'debug' });
  t.same([...chatty.stdout], bytes, 'LOG_LEVEL=debug: still byte for byte');
  t.match(chatty.stderr, /greenlake-proxy listening/, 'the logs went to stderr');
});

t.test('routes whose names give the same variable get none, with a warning', async (t) => {
  const emu = await emulator(t);
  const file = await writeConfig(t.testdir({}), emu, [`  - { prefix: /a-b, upstream: "${emu.url}" }`, `  - { prefix: /a_b, upstream: "${emu.url}" }`, `  - { prefix: /c, upstream: "${emu.url}" }`]);
  const run = await exec(['--config', file], 'process.stdout.write(JSON.stringify(process.env))', { SECRET });
  t.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout.toString()) as Record<string, string>;
  t.notOk('GREENLAKE_PROXY_URL_A_B' in seen, 'ambiguous: not set');
  t.ok(seen['GREENLAKE_PROXY_URL_C'], 'the others are');
  t.match(run.stderr, /GREENLAKE_PROXY_URL_A_B/, 'the warning names it');
});

/** Zero-config against a token URL nothing is asked of: the child makes no request. */
function zeroConfig(): Record<string, string> {
  return { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 'a-secret-nobody-checks', GREENLAKE_TOKEN_URL: 'http://127.0.0.1:9/token' };
}

/** exec and its child, whatever is left of them (exec killed by SIGKILL leaves its child running). */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}
