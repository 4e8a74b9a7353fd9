// check, check --online and token: what each client and tenant will use, and the tokens themselves.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { runCli } from './helpers/cli.ts';
import { assertNoCredentialsIn, emulator } from './helpers/index.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const ACME_ID = '0123456789abcdef0123456789abcdef';
const MSP_ID = '00112233445566778899aabbccddeeff';

t.test('check names per client its token URL, auth method and secret file; --online names an unreachable endpoint by URL', async (t) => {
  const emu = await emulator(t);
  const dir = t.testdir({ 'secret.txt': DEMO_CLIENT.clientSecret, 'locked.txt': 'LOCKED-SECRET-VALUE' });
  const file = join(dir, 'c.json');
  await writeFile(
    file,
    JSON.stringify({
      clients: [
        { name: 'filed', clientId: DEMO_CLIENT.clientId, clientSecretFile: join(dir, 'secret.txt'), tokenUrl: emu.tokenUrl, authMethod: 'client_secret_basic' },
        { name: 'gone', clientId: 'x', clientSecret: 'UNREACHABLE-SECRET-1', tokenUrl: 'http://127.0.0.1:1/as/token.oauth2' },
        {
          name: 'msp',
          clientId: DEMO_CLIENT.clientId,
          clientSecret: DEMO_CLIENT.clientSecret,
          tokenUrl: emu.workspaceTokenUrl(MSP_ID),
          tenants: [{ name: 'acme', workspaceId: ACME_ID }],
        },
      ],
      routes: [{ prefix: '/lab', upstream: emu.url, client: 'filed' }],
    }),
  );
  const offline = await runCli(['check', '--config', file]);
  t.equal(offline.code, 0, offline.stderr);
  t.match(offline.stdout, new RegExp(`client filed: token URL ${emu.tokenUrl}, client_secret_basic, secret file .*secret\\.txt \\(readable\\)`));
  t.match(offline.stdout, /client gone: token URL http:\/\/127\.0\.0\.1:1\/as\/token\.oauth2, client_secret_post, secret in the configuration/);
  t.match(offline.stdout, new RegExp(`tenant acme: token exchange at ${emu.url}/authorization/v2/oauth2/${ACME_ID}/token`));
  t.equal(emu.tokenRequests.length, 0, 'offline: no token request');

  const online = await runCli(['check', '--online', '--config', file]);
  t.equal(online.code, 1, 'one endpoint unreachable');
  t.match(online.stdout, /^OK\s+filed: token issued by /m);
  t.match(online.stdout, /^FAIL\s+gone: http:\/\/127\.0\.0\.1:1\/as\/token\.oauth2: token endpoint unreachable \(ECONNREFUSED\)/m, 'named by URL');
  t.match(online.stdout, /^OK\s+msp: /m);
  t.match(online.stdout, new RegExp(`^OK\\s+msp/acme: token exchanged at ${emu.url}/authorization/v2/oauth2/${ACME_ID}/token`, 'm'), 'the tenant exchange too');
  t.ok(emu.tokenRequests.some((r) => r.path.includes(ACME_ID)), 'the emulator saw the exchange');
  assertNoCredentialsIn(t, [online.stdout, online.stderr, offline.stdout], ['UNREACHABLE-SECRET-1', DEMO_CLIENT.clientSecret]);
});

t.test('token --tenant prints the tenant token; unknown --client, --tenant or --region: exit 2 naming the known ones', async (t) => {
  const emu = await emulator(t);
  const file = join(t.testdir({}), 'msp.json');
  await writeFile(
    file,
    JSON.stringify({
      clients: [
        { name: 'msp', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_CLIENT.clientSecret, tokenUrl: emu.workspaceTokenUrl(MSP_ID), tenants: [{ name: 'acme', workspaceId: ACME_ID }] },
      ],
      routes: [{ prefix: '/lab', upstream: emu.url, region: 'lab' }],
    }),
  );
  const tenant = await runCli(['token', '--config', file, '--tenant', 'acme']);
  t.equal(tenant.code, 0, tenant.stderr);
  t.match(tenant.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/, 'one JWT line');
  t.ok(emu.tokenRequests.some((r) => r.path.includes(ACME_ID)), 'got by exchange at the tenant endpoint');

  const unknownTenant = await runCli(['token', '--config', file, '--tenant', 'nobody']);
  t.equal(unknownTenant.code, 2);
  t.match(unknownTenant.stderr, /--tenant: client "msp" has no tenant "nobody" \(its tenants: acme\)/);
  const unknownRegion = await runCli(['token', '--config', file, '--region', 'mars']);
  t.equal(unknownRegion.code, 2);
  t.match(unknownRegion.stderr, /--region: client "msp" has no route with region "mars" \(its regions: lab\)/);
  t.equal((await runCli(['token', '--config', file, '--region', 'lab'])).code, 0, 'a known region');
  const zeroConfig = await runCli(['token', '--client', 'team'], { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 's' });
  t.match(zeroConfig.stderr, /--client: no client named "team" \(clients: default\)/, 'zero-config: the client\'s real name');
});

t.test('npm start -- token prints only the token: npm\'s banner goes to stderr', async (t) => {
  const emu = await emulator(t);
  const npm = promisify(execFile);
  // Without tap's coverage hooks in NODE_OPTIONS: this is npm's run, not ours to cover.
  const res = await npm('env', ['-u', 'NODE_OPTIONS', 'npm', 'start', '--', 'token'], {
    cwd: ROOT,
    env: {
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
      HOME: process.env.HOME ?? '/root',
      GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId,
      GREENLAKE_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
      GREENLAKE_TOKEN_URL: emu.tokenUrl,
    },
  });
  t.match(res.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/, 'stdout: the token alone');
  t.match(res.stderr, /> greenlake-proxy@[\d.]+ start/, 'the banner, on stderr');
});

