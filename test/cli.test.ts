import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { MAIN, runCli } from './helpers/cli.ts';
import { emulator } from './helpers/index.ts';

t.test('a bad config exits 2 naming the key path, never the secret value', async (t) => {
  const dir = t.testdir({
    'bad.yaml': [
      'clients:',
      '  - name: a',
      '    clientId: id-a',
      '    clientSecret: TOP-SECRET-VALUE-1',
      '    tokenUrl: http://sso.example.com/token',
      '  - name: b',
      '    clientId: id-b',
      'routes:',
      '  - prefix: /lab',
      '    client: a',
      '',
    ].join('\n'),
  });
  const res = await runCli(['check', '--config', join(dir, 'bad.yaml')]);
  t.equal(res.code, 2);
  t.match(res.stderr, /clients\[1\]/, 'names the client without a secret');
  t.match(res.stderr, /clients\[0\]\.tokenUrl/, 'names the non-https token URL');
  t.match(res.stderr, /routes\[0\]\.upstream/, 'names the route without upstream');
  t.notMatch(res.stderr + res.stdout, /TOP-SECRET-VALUE-1/, 'the secret value is never printed');
});

t.test('serve with a Redis store but no usable encryption key refuses to start: exit 2, naming the setting, never a value', async (t) => {
  const dir = t.testdir({
    'no-key.yaml': ['clients:', '  - { name: team, clientId: id, clientSecret: s3cr3t-value-x }', 'store:', '  redis: { url: "redis://127.0.0.1:6379" }', ''].join('\n'),
  });
  const noKey = await runCli(['serve', '--config', join(dir, 'no-key.yaml'), '--port', '0']);
  t.equal(noKey.code, 2, 'no key: exit 2');
  t.match(noKey.stderr, /store\.redis: needs encryptionKey or encryptionKeyFile/);
  const shortKey = 'c2hvcnQta2V5LTE2Ynl0ZQ==';
  const fromEnv = await runCli(['serve', '--port', '0'], {
    GREENLAKE_CLIENT_ID: 'id',
    GREENLAKE_CLIENT_SECRET: 's3cr3t-value-x',
    GREENLAKE_PROXY_REDIS_URL: 'redis://127.0.0.1:6379',
    GREENLAKE_PROXY_REDIS_KEY: shortKey,
  });
  t.equal(fromEnv.code, 2, 'a 16-byte key from GREENLAKE_PROXY_REDIS_KEY: exit 2');
  t.match(fromEnv.stderr, /must be 32 bytes in base64, got 16 bytes/);
  for (const run of [noKey, fromEnv]) {
    t.notMatch(run.stderr + run.stdout, /s3cr3t-value-x/, 'the client secret is not printed');
    t.notMatch(run.stderr + run.stdout, shortKey, 'nor the key');
    t.notMatch(run.stdout, /listening/, 'it never listened');
  }
});

t.test('usage errors exit 2; --help and --version exit 0', async (t) => {
  t.equal((await runCli(['frobnicate'])).code, 2);
  t.equal((await runCli(['serve', '--bogus'])).code, 2);
  const help = await runCli(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /Commands:/);
  t.match((await runCli(['--version'])).stdout, /^\d+\.\d+\.\d+\n$/);
  const none = await runCli(['check']);
  t.equal(none.code, 2, 'no configuration at all');
  t.match(none.stderr, /GREENLAKE_CLIENT_ID/);
});

t.test('token prints a fresh access token and nothing else', async (t) => {
  const emu = await emulator(t);
  const res = await runCli(['token'], {
    GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId,
    GREENLAKE_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
    GREENLAKE_TOKEN_URL: emu.tokenUrl,
  });
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/, 'exactly one JWT line on stdout');
  t.equal(emu.tokenRequests.length, 1);

  const bad = await runCli(['token'], {
    GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId,
    GREENLAKE_CLIENT_SECRET: 'wrong',
    GREENLAKE_TOKEN_URL: emu.tokenUrl,
  });
  t.equal(bad.code, 1);
  t.equal(bad.stdout, '', 'nothing on stdout when it fails');
  t.match(bad.stderr, /invalid_client/);
});

t.test('check --online prints OK or the token endpoint error per client', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({});
  const file = join(dir, 'c.json');
  await writeFile(
    file,
    JSON.stringify({
      clients: [
        { name: 'good', clientId: DEMO_CLIENT.clientId, clientSecret: '${GOOD_SECRET}', tokenUrl: emu.tokenUrl },
        { name: 'bad', clientId: DEMO_CLIENT.clientId, clientSecret: 'nope', tokenUrl: emu.tokenUrl, authMethod: 'client_secret_basic' },
      ],
      routes: [{ prefix: '/lab', upstream: emu.url, client: 'good' }],
    }),
  );
  const offline = await runCli(['check', '--config', file], { GOOD_SECRET: DEMO_CLIENT.clientSecret });
  t.equal(offline.code, 0);
  t.match(offline.stdout, /configuration OK/);
  t.equal(emu.tokenRequests.length, 0, 'check alone fetches nothing');

  const online = await runCli(['check', '--online', '--config', file], { GOOD_SECRET: DEMO_CLIENT.clientSecret });
  t.equal(online.code, 1, 'one client failed');
  t.match(online.stdout, /^OK\s+good: /m);
  t.match(online.stdout, /^FAIL\s+bad: .*invalid_client/m);
  t.notMatch(online.stdout, new RegExp(DEMO_CLIENT.clientSecret));
});

/** A node older than 24 on this machine (the system one, often), to run the bin with. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    const probe = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' });
    if (probe.status === 0 && Number(probe.stdout.split('.')[0]) < 24) return candidate;
  }
  return undefined;
}

const older = olderNode();
t.test('under a Node older than 24 the bin says which Node it needs, and exits 2', { skip: older === undefined ? 'no Node older than 24 here' : false }, async (t) => {
  const run = spawnSync(older!, [MAIN, '--version'], { encoding: 'utf8' });
  t.equal(run.status, 2);
  t.match(run.stderr, /needs Node\.js 24 or later, this is v\d+\..*nodejs\.org/);
  t.notMatch(run.stderr, /SyntaxError|at ModuleJob/, 'not a stack trace');
});

