// greenlake-proxy exec -- COMMAND: the environment its child sees, and what it reaches through it.
// Its life (signals, exit statuses, a proxy that cannot start): cli-exec-lifecycle.test.ts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { exec, execCommand, SECRET, writeConfig } from './helpers/exec.ts';
import { emulator, freePort, tokensSeenBy, type Tap } from './helpers/index.ts';

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
  const run = await execCommand(t, args, [process.execPath, '--input-type=module', '-e', FETCHER, JSON.stringify([urls, headers])], env);
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
    const run = await exec(t, ['--config', config], 'process.stdout.write(JSON.stringify(process.env))', { ...env, ...more });
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
  const run = await exec(t, ['--token-env', 'GREENLAKE_CLIENT_SECRET'], 'process.stdout.write(JSON.stringify(process.env))', zero);
  t.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout.toString()) as Record<string, string>;
  for (const name of ['GREENLAKE_CLIENT_SECRET_FILE', 'GREENLAKE_PROXY_REDIS_KEY', 'GREENLAKE_PROXY_REDIS_URL', 'SAME_AS_FILE']) t.notOk(name in seen, `zero-config: no ${name}`);
  t.equal(seen['GREENLAKE_CLIENT_ID'], DEMO_CLIENT.clientId, 'the client ID is no secret: it passes');
  t.match(seen['GREENLAKE_PROXY_TOKEN'], /^glproxy_/);
  t.equal(seen['GREENLAKE_CLIENT_SECRET'], seen['GREENLAKE_PROXY_TOKEN'], '--token-env: GREENLAKE_CLIENT_SECRET is the token, not the secret');
  t.match(seen['GREENLAKE_PROXY_URL_GLP_GLOBAL'], /^http:\/\/127\.0\.0\.1:\d+\/glp\/global$/, 'zero-config: every catalog route has its variable');
});

t.test('the token: worthless upstream; required with --require-token or inbound keys, traded for stand-ins; --read-only refuses writes', async (t) => {
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

  const writes = ['DELETE', 'POST', 'PUT', 'PATCH'].map((method) => `GREENLAKE_PROXY_URL_GLP_GLOBAL /devices/v1/devices/x ${method}`);
  const readOnly = await fetchThrough(t, ['--config', file, '--read-only'], [devices, ...writes], {}, { SECRET });
  t.same(Object.values(readOnly.statuses), [200, 403, 403, 403, 403], '--read-only, no token asked: GET passes, every write gets 403');
  const readOnlyWithToken = await fetchThrough(t, ['--config', file, '--read-only', '--require-token'], [devices, writes[0]!], bearer, { SECRET });
  t.same(Object.values(readOnlyWithToken.statuses), [200, 403], '--read-only --require-token: the token does not lift it');
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
    t,
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

t.test('a config file whose main listener is a Unix socket: exec still serves its child on 127.0.0.1, and leaves the socket alone', async (t) => {
  const emu = await emulator(t);
  // Short: a socket path has at most 107 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'glx-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'proxy.sock');
  const file = await writeConfig(dir, emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`], ['listen:', `  socket: ${socket}`]);
  const { statuses, own } = await fetchThrough(t, ['--config', file], ['GREENLAKE_PROXY_URL_DSCC_US1 /api/v1/volumes?limit=1'], {}, { SECRET, GREENLAKE_PROXY_SOCKET: join(dir, 'env.sock') });
  t.same(Object.values(statuses), [200]);
  t.match(own['GREENLAKE_PROXY_URL'], /^http:\/\/127\.0\.0\.1:\d+$/);
  t.notOk(existsSync(socket) || existsSync(join(dir, 'env.sock')), 'no socket file was made: a serve of the same configuration may hold it');
});

/** A child that GETs PATH over GREENLAKE_PROXY_SOCKET (Host: localhost) and prints the status, the socket's mode and its own variables. */
const SOCKET_FETCHER = `
import { request } from 'node:http';
import { statSync } from 'node:fs';
const path = new URL(process.env.GREENLAKE_PROXY_URL_DSCC_US1).pathname + process.argv[1];
const status = await new Promise((done, fail) => request({ socketPath: process.env.GREENLAKE_PROXY_SOCKET, path, headers: { host: 'localhost' } }, (res) => { res.resume(); done(res.statusCode); }).on('error', fail).end());
const mode = (statSync(process.env.GREENLAKE_PROXY_SOCKET).mode & 0o777).toString(8);
const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('GREENLAKE_PROXY_')));
process.stdout.write(JSON.stringify({ status, mode, own }));
`;

t.test('exec --socket PATH: the child reaches the proxy on a 0600 socket named in GREENLAKE_PROXY_SOCKET, removed when it ends', async (t) => {
  const emu = await emulator(t);
  const dir = mkdtempSync(join(tmpdir(), 'glx-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const socket = join(dir, 'exec.sock');
  const file = await writeConfig(dir, emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`]);
  const run = await execCommand(t, ['--config', file, '--socket', socket], [process.execPath, '--input-type=module', '-e', SOCKET_FETCHER, '/api/v1/volumes?limit=1'], { SECRET });
  t.equal(run.code, 0, `exec ran the child: ${run.stderr}`);
  const seen = JSON.parse(run.stdout.toString()) as { status: number; mode: string; own: Record<string, string> };
  t.equal(seen.status, 200, 'a GET over the socket reached the emulator');
  t.equal(seen.mode, '600', 'only its user can open the socket');
  t.equal(seen.own['GREENLAKE_PROXY_SOCKET'], socket);
  t.equal(seen.own['GREENLAKE_PROXY_URL'], 'http://localhost', 'the URLs name no TCP port: there is none');
  t.equal(seen.own['GREENLAKE_PROXY_URL_DSCC_US1'], 'http://localhost/dscc/us1');
  t.notOk(existsSync(socket), 'the socket file is gone once exec has ended');
});

t.test('exec --socket refuses --port beside it, and a route with only a port, before running anything', async (t) => {
  const emu = await emulator(t);
  const dir = mkdtempSync(join(tmpdir(), 'glx-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'ran');
  const script = `require('node:fs').writeFileSync(${JSON.stringify(marker)}, '')`;
  const plain = await writeConfig(dir, emu, [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`]);
  const both = await exec(t, ['--config', plain, '--socket', join(dir, 's.sock'), '--port', '0'], script, { SECRET });
  t.equal(both.code, 2);
  t.match(both.stderr, /--socket and --port: choose one/);
  const portOnly = await writeConfig(dir, emu, [`  - { port: ${await freePort()}, upstream: "${emu.url}" }`], [], 'port-only.yaml');
  const refused = await exec(t, ['--config', portOnly, '--socket', join(dir, 's.sock')], script, { SECRET });
  t.equal(refused.code, 2);
  t.match(refused.stderr, /--socket: port:\d+ is a route with a port and no prefix: it cannot be served on a socket/);
  t.notOk(existsSync(marker), 'the command never ran');
});

t.test('with a corporate proxy in the environment, NO_PROXY and no_proxy gain 127.0.0.1 and localhost; without one they are left as they are', async (t) => {
  const print = "process.stdout.write(JSON.stringify([process.env.NO_PROXY ?? null, process.env.no_proxy ?? null]))";
  const env = { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 'a-secret-nobody-checks', GREENLAKE_TOKEN_URL: 'http://127.0.0.1:9/token' };
  const behind = await exec(t, [], print, { ...env, HTTPS_PROXY: 'http://corporate.example:3128', NO_PROXY: '.corp.example, localhost' });
  t.equal(behind.code, 0, behind.stderr);
  t.same(JSON.parse(behind.stdout.toString()), ['.corp.example,localhost,127.0.0.1', '127.0.0.1,localhost']);
  const direct = await exec(t, [], print, { ...env, NO_PROXY: '.corp.example' });
  t.same(JSON.parse(direct.stdout.toString()), ['.corp.example', null]);
});

t.test('routes whose names give the same variable get none, with a warning', async (t) => {
  const emu = await emulator(t);
  const file = await writeConfig(t.testdir({}), emu, [`  - { prefix: /a-b, upstream: "${emu.url}" }`, `  - { prefix: /a_b, upstream: "${emu.url}" }`, `  - { prefix: /c, upstream: "${emu.url}" }`]);
  const run = await exec(t, ['--config', file], 'process.stdout.write(JSON.stringify(process.env))', { SECRET });
  t.equal(run.code, 0, run.stderr);
  const seen = JSON.parse(run.stdout.toString()) as Record<string, string>;
  t.notOk('GREENLAKE_PROXY_URL_A_B' in seen, 'ambiguous: not set');
  t.ok(seen['GREENLAKE_PROXY_URL_C'], 'the others are');
  t.match(run.stderr, /GREENLAKE_PROXY_URL_A_B/, 'the warning names it');
});
