import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  catalog,
  ConfigError,
  DEFAULT_TOKEN_URL,
  loadConfig,
  parseConfig,
  readSecret,
  type ClientConfig,
  type ProxyConfig,
} from '../src/config/index.ts';
import { runCli } from './helpers/cli.ts';

const EXAMPLE_FILE = fileURLToPath(new URL('../config/greenlake-proxy.example.yaml', import.meta.url));
const SECRET = 'Zq7-very-secret-VALUE-d41d8cd98f00b204';

type Raw = Record<string, unknown>;

/** A valid configuration with one client; `extra` keys are merged at the top level. */
function minimal(extra: Raw = {}): Raw {
  return { clients: [{ name: 'team', clientId: 'the-id', clientSecret: SECRET }], ...extra };
}

function parse(raw: unknown, env: Record<string, string | undefined> = {}): ProxyConfig {
  return parseConfig(raw, env, 'test');
}

function configErrorFrom(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

async function configErrorFromAsync(action: () => Promise<unknown>): Promise<ConfigError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

function problemsOf(raw: unknown, env: Record<string, string | undefined> = {}): readonly string[] {
  return configErrorFrom(() => parse(raw, env)).problems;
}

function withRoutes(...routes: Raw[]): Raw {
  return minimal({ routes });
}

function client(extra: Raw): Raw {
  return { name: 'team', clientId: 'the-id', clientSecret: SECRET, ...extra };
}

// -------------------------------------------------------------------------------------------------

t.test('the example file parses with the environment variables set', async (t) => {
  const config = await loadConfig({
    file: EXAMPLE_FILE,
    env: { GREENLAKE_CLIENT_ID: 'example-id', GREENLAKE_CLIENT_SECRET: SECRET },
  });
  t.equal(config.source, EXAMPLE_FILE);
  t.strictSame(config.listen, { host: '127.0.0.1', port: 8080 });
  t.equal(config.clients.length, 1);
  t.strictSame(config.clients[0], {
    name: 'storage-team',
    clientId: 'example-id',
    secret: { kind: 'value', value: SECRET },
    tokenUrl: DEFAULT_TOKEN_URL,
    authMethod: 'client_secret_post',
    basicEncoding: 'form',
    tokenParams: {},
    tenants: [],
    tenantTokenUrl: undefined,
  });
  const noTenant = { tenant: undefined, tenantHeader: false, readOnly: false, allow: undefined };
  t.strictSame(config.routes, [
    { prefix: '/dscc/us1', port: undefined, upstream: 'https://us1.data.cloud.hpe.com', client: 'storage-team', region: '/dscc/us1', ...noTenant },
    { prefix: '/lab', port: undefined, upstream: 'https://lab.example.com', client: 'storage-team', region: 'lab', ...noTenant },
    { prefix: '/com/us-west', port: 9001, upstream: 'https://us-west.api.greenlake.hpe.com', client: 'storage-team', region: '/com/us-west', ...noTenant },
  ]);
  t.equal(config.timeouts.upstreamBodyMs, 300000);
  t.equal(config.tokens.maxAttempts, 4);
  t.equal(config.caFile, undefined);
});

t.test('the example file documents the workspace token URL and the alternatives', async (t) => {
  const text = await readFile(EXAMPLE_FILE, 'utf8');
  t.match(text, 'https://global.api.greenlake.hpe.com/authorization/v2/oauth2/<WORKSPACE_ID>/token');
  t.match(text, /# *authMethod: client_secret_basic/);
  t.match(text, /# *clientSecretFile: /);
});

t.test('the example file fails without its environment variables', async (t) => {
  const error = await configErrorFromAsync(() => loadConfig({ file: EXAMPLE_FILE, env: {} }));
  t.strictSame(error.problems, [
    'clients[0].clientId: environment variable GREENLAKE_CLIENT_ID is not set',
    'clients[0].clientSecret: environment variable GREENLAKE_CLIENT_SECRET is not set',
  ]);
});

// -------------------------------------------------------------------------------------------------

t.test('catalog', async (t) => {
  // What HPE documents: DSCC zones us1, jp1, eu1, uk1, uae1 as of June 2026 (../shared/greenlake-api.md).
  t.strictSame(
    catalog.map((entry) => `${entry.prefix} ${entry.upstream}`),
    [
      '/glp/global https://global.api.greenlake.hpe.com',
      '/com/us-west https://us-west.api.greenlake.hpe.com',
      '/com/eu-central https://eu-central.api.greenlake.hpe.com',
      '/com/ap-northeast https://ap-northeast.api.greenlake.hpe.com',
      '/dscc/us-west https://us-west.api.greenlake.hpe.com',
      '/dscc/eu-west https://eu-west.api.greenlake.hpe.com',
      '/dscc/eu-central https://eu-central.api.greenlake.hpe.com',
      '/dscc/ap-northeast https://ap-northeast.api.greenlake.hpe.com',
      '/com/us-west2 https://us-west2-api.compute.cloud.hpe.com',
      '/com/eu-central1 https://eu-central1-api.compute.cloud.hpe.com',
      '/com/ap-northeast1 https://ap-northeast1-api.compute.cloud.hpe.com',
      '/dscc/us1 https://us1.data.cloud.hpe.com',
      '/dscc/eu1 https://eu1.data.cloud.hpe.com',
      '/dscc/jp1 https://jp1.data.cloud.hpe.com',
      '/dscc/uk1 https://uk1.data.cloud.hpe.com',
      '/dscc/uae1 https://uae1.data.cloud.hpe.com',
    ],
  );
  t.strictSame(catalog.find((entry) => entry.prefix === '/dscc/jp1'), {
    prefix: '/dscc/jp1',
    service: 'dscc',
    region: 'jp1',
    upstream: 'https://jp1.data.cloud.hpe.com',
  });
  t.ok(Object.isFrozen(catalog), 'the catalog cannot be changed by a caller');
  t.equal(DEFAULT_TOKEN_URL, 'https://sso.common.cloud.hpe.com/as/token.oauth2');
});

// -------------------------------------------------------------------------------------------------

t.test('zero-config from the environment', async (t) => {
  t.test('one client named default, every catalog route', async (t) => {
    const config = await loadConfig({ env: { GREENLAKE_CLIENT_ID: 'env-id', GREENLAKE_CLIENT_SECRET: SECRET } });
    t.equal(config.source, 'environment');
    t.strictSame(config.clients, [
      {
        name: 'default',
        clientId: 'env-id',
        secret: { kind: 'value', value: SECRET },
        tokenUrl: DEFAULT_TOKEN_URL,
        authMethod: 'client_secret_post',
        basicEncoding: 'form',
        tokenParams: {},
        tenants: [],
        tenantTokenUrl: undefined,
      },
    ]);
    t.equal(config.routes.length, 16);
    t.strictSame(
      config.routes.map((route) => [route.prefix, route.upstream, route.client, route.region, route.port]),
      catalog.map((entry) => [entry.prefix, entry.upstream, 'default', entry.prefix, undefined]),
    );
    t.strictSame(config.listen, { host: '127.0.0.1', port: 8080 });
  });

  t.test('secret file, token URL and auth method variables', async (t) => {
    const config = await loadConfig({
      env: {
        GREENLAKE_CLIENT_ID: 'env-id',
        GREENLAKE_CLIENT_SECRET_FILE: '/run/secrets/glp',
        GREENLAKE_TOKEN_URL: 'https://global.api.greenlake.hpe.com/authorization/v2/oauth2/0123abcd/token',
        GREENLAKE_AUTH_METHOD: 'client_secret_basic',
      },
    });
    t.strictSame(config.clients[0]?.secret, { kind: 'file', path: '/run/secrets/glp' });
    t.equal(config.clients[0]?.tokenUrl, 'https://global.api.greenlake.hpe.com/authorization/v2/oauth2/0123abcd/token');
    t.equal(config.clients[0]?.authMethod, 'client_secret_basic');
  });

  t.test('nothing configured', async (t) => {
    const error = await configErrorFromAsync(() => loadConfig({ env: {} }));
    t.strictSame(error.problems, ['no configuration: set GREENLAKE_CLIENT_ID and GREENLAKE_CLIENT_SECRET, or pass --config FILE']);
    t.equal(error.message, 'environment: no configuration: set GREENLAKE_CLIENT_ID and GREENLAKE_CLIENT_SECRET, or pass --config FILE');
  });

  t.test('client ID without a secret', async (t) => {
    const error = await configErrorFromAsync(() => loadConfig({ env: { GREENLAKE_CLIENT_ID: 'env-id' } }));
    t.strictSame(error.problems, ['GREENLAKE_CLIENT_SECRET: missing']);
  });

  t.test('an empty secret variable counts as unset', async (t) => {
    const error = await configErrorFromAsync(() => loadConfig({ env: { GREENLAKE_CLIENT_ID: 'env-id', GREENLAKE_CLIENT_SECRET: '' } }));
    t.strictSame(error.problems, ['GREENLAKE_CLIENT_SECRET: missing']);
  });

  t.test('secret without a client ID', async (t) => {
    const error = await configErrorFromAsync(() => loadConfig({ env: { GREENLAKE_CLIENT_SECRET: SECRET } }));
    t.strictSame(error.problems, ['GREENLAKE_CLIENT_ID: missing']);
    t.notMatch(error.message, SECRET);
  });

  t.test('both secret and secret file, bad token URL and auth method: all reported, named by variable', async (t) => {
    const error = await configErrorFromAsync(() =>
      loadConfig({
        env: {
          GREENLAKE_CLIENT_ID: 'env-id',
          GREENLAKE_CLIENT_SECRET: SECRET,
          GREENLAKE_CLIENT_SECRET_FILE: '/run/secrets/glp',
          GREENLAKE_TOKEN_URL: 'http://sso.example.com/token',
          GREENLAKE_AUTH_METHOD: 'private_key_jwt',
        },
      }),
    );
    t.strictSame(error.problems, [
      'GREENLAKE_CLIENT_SECRET: set only one of GREENLAKE_CLIENT_SECRET and GREENLAKE_CLIENT_SECRET_FILE',
      'GREENLAKE_TOKEN_URL: must be https (http only on loopback addresses)',
      'GREENLAKE_AUTH_METHOD: must be one of client_secret_post, client_secret_basic',
    ]);
  });

  t.test('environment values are not interpolated', async (t) => {
    const config = await loadConfig({ env: { GREENLAKE_CLIENT_ID: 'env-id', GREENLAKE_CLIENT_SECRET: 'a${NOT_A_VAR}b' } });
    t.strictSame(config.clients[0]?.secret, { kind: 'value', value: 'a${NOT_A_VAR}b' });
  });

  t.test('GREENLAKE_PROXY_PORT must be an integer', async (t) => {
    for (const port of ['abc', '80.5', '-1', '65536', '8080x']) {
      const error = await configErrorFromAsync(() =>
        loadConfig({ env: { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: SECRET, GREENLAKE_PROXY_PORT: port } }),
      );
      t.strictSame(error.problems, ['GREENLAKE_PROXY_PORT: must be an integer from 0 to 65535'], port);
    }
  });
});

// -------------------------------------------------------------------------------------------------

t.test('defaults', async (t) => {
  const config = parse(minimal());
  t.equal(config.source, 'test');
  t.strictSame(config.listen, { host: '127.0.0.1', port: 8080 });
  t.equal(config.clients[0]?.tokenUrl, DEFAULT_TOKEN_URL);
  t.equal(config.clients[0]?.authMethod, 'client_secret_post');
  t.equal(config.routes.length, catalog.length, 'no routes: every catalog route');
  t.ok(config.routes.every((route) => route.client === 'team'));
  t.strictSame(config.timeouts, {
    tokenWaitMs: 10000,
    tokenRequestMs: 5000,
    upstreamConnectMs: 10000,
    upstreamHeadersMs: 60000,
    upstreamBodyMs: 300000,
    shutdownGraceMs: 25000,
    inboundHeadersMs: 30000,
    inboundIdleMs: 330000,
    requestBodyHoldMs: 10000,
  });
  t.strictSame(config.inbound, {
    allowUnauthenticated: false,
    allowedHosts: [],
    allowedOrigins: [],
    requireHeader: undefined,
    apiKeys: [],
    jwt: undefined,
    rateLimit: undefined,
    maxHeaderBytes: 16384,
    localTokens: { enabled: true, lifetimeSeconds: 900, clients: [] },
    maxReplayMemoryBytes: 67108864,
  });
  t.strictSame(config.tokens, { minTtlSeconds: 10, maxAttempts: 4, backoffBaseMs: 250, backoffMaxMs: 30000, defaultLifetimeSeconds: 300 });
  t.equal(config.caFile, undefined);
  t.equal(parseConfig(minimal(), process.env, 'process').source, 'process', 'accepts process.env');
});

t.test('partial timeouts and tokens are filled with defaults', async (t) => {
  const config = parse(minimal({ timeouts: { tokenWaitMs: 1234 }, tokens: { minTtlSeconds: 0, maxAttempts: 1 } }));
  t.equal(config.timeouts.tokenWaitMs, 1234);
  t.equal(config.timeouts.tokenRequestMs, 5000);
  t.equal(config.tokens.minTtlSeconds, 0, 'minTtlSeconds may be 0');
  t.equal(config.tokens.maxAttempts, 1);
  t.equal(config.tokens.backoffMaxMs, 30000);
});

t.test('the resolved configuration cannot be modified', async (t) => {
  const config = parse(minimal());
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.clients[0]) && Object.isFrozen(config.routes[0]) && Object.isFrozen(config.listen));
});

// -------------------------------------------------------------------------------------------------

t.test('missing, unknown and mistyped keys', async (t) => {
  t.strictSame(problemsOf({ clients: [{ name: 'team', clientSecret: SECRET }] }), ['clients[0].clientId: missing']);
  t.strictSame(problemsOf({ listen: {} }), ['clients: missing']);
  t.strictSame(problemsOf({ clients: [client({ clientSecrett: SECRET })] }), ['clients[0].clientSecrett: unknown key']);
  t.strictSame(problemsOf(minimal({ listne: { port: 1 } })), ['listne: unknown key']);
  t.strictSame(problemsOf(minimal({ timeouts: { tokenWait: 5 } })), ['timeouts.tokenWait: unknown key']);
  t.strictSame(problemsOf(withRoutes({ prefix: '/dscc/us1', upstrem: 'https://x.example.com' })), ['routes[0].upstrem: unknown key']);
  t.strictSame(problemsOf({ clients: [client({ clientId: 42 })] }), ['clients[0].clientId: expected a string, got a number (put it in quotes)']);
  t.strictSame(problemsOf({ clients: [client({ clientId: null })] }), ['clients[0].clientId: expected a string, got an empty value']);
  t.strictSame(problemsOf({ clients: { name: 'team' } }), ['clients: expected a list, got a mapping']);
  t.strictSame(problemsOf(minimal({ listen: 8080 })), ['listen: expected a mapping of keys, got a number']);
  t.strictSame(problemsOf(minimal({ listen: { port: '8080' } })), ['listen.port: must be an integer from 0 to 65535']);
  t.strictSame(problemsOf(minimal({ listen: { host: '' } })), ['listen.host: must not be empty']);
  t.strictSame(problemsOf({ clients: [client({ authMethod: 'private_key_jwt' })] }), [
    'clients[0].authMethod: must be one of client_secret_post, client_secret_basic',
  ]);
  t.strictSame(problemsOf(null), ['the configuration is empty']);
  t.strictSame(problemsOf(['a']), ['(top level): expected a mapping of keys, got a list']);
});

t.test('client secret: exactly one of clientSecret and clientSecretFile', async (t) => {
  t.strictSame(problemsOf({ clients: [{ name: 'team', clientId: 'id' }] }), ['clients[0]: needs clientSecret or clientSecretFile']);
  t.strictSame(problemsOf({ clients: [client({ clientSecretFile: '/run/secrets/x' })] }), [
    'clients[0]: needs clientSecret or clientSecretFile, not both',
  ]);
  t.strictSame(problemsOf({ clients: [client({ clientSecret: '' })] }), ['clients[0].clientSecret: must not be empty']);
  const config = parse({ clients: [{ name: 'team', clientId: 'id', clientSecretFile: '/run/secrets/x' }] });
  t.strictSame(config.clients[0]?.secret, { kind: 'file', path: '/run/secrets/x' });
});

t.test('a 4096-character secret is accepted', async (t) => {
  const long = 'x'.repeat(4096);
  const config = parse({ clients: [client({ clientSecret: long })] });
  const first = config.clients[0];
  if (first === undefined) throw new Error('no client');
  t.equal(await readSecret(first), long);
});

t.test('client names', async (t) => {
  t.strictSame(problemsOf({ clients: [] }), ['clients: needs at least one client']);
  t.strictSame(problemsOf({ clients: [client({ name: '' })] }), ['clients[0].name: must not be empty']);
  t.strictSame(problemsOf({ clients: [client({ name: 'storage team' })] }), ['clients[0].name: may contain only A-Z a-z 0-9 . _ -']);
  t.strictSame(problemsOf({ clients: [client({ name: 'a' }), client({ name: 'b' }), client({ name: 'a' })] }), [
    'clients[2].name: duplicate: clients[0] has the same name',
  ]);
  t.equal(parse({ clients: [client({ name: 'Team_1.prod-eu' })] }).clients[0]?.name, 'Team_1.prod-eu');
});

t.test('tokenUrl and upstream URLs', async (t) => {
  const tokenUrlProblems = (tokenUrl: string) => problemsOf({ clients: [client({ tokenUrl })] });
  t.strictSame(tokenUrlProblems('sso.common.cloud.hpe.com/as/token.oauth2'), ['clients[0].tokenUrl: must be an absolute URL such as https://host/path']);
  t.strictSame(tokenUrlProblems('/as/token.oauth2'), ['clients[0].tokenUrl: must be an absolute URL such as https://host/path']);
  t.strictSame(tokenUrlProblems('http://sso.example.com/token'), ['clients[0].tokenUrl: must be https (http only on loopback addresses)']);
  t.strictSame(tokenUrlProblems('ftp://sso.example.com/token'), ['clients[0].tokenUrl: must be https (http only on loopback addresses)']);
  t.strictSame(tokenUrlProblems('http://10.0.0.1/token'), ['clients[0].tokenUrl: must be https (http only on loopback addresses)']);
  t.strictSame(tokenUrlProblems('https://sso.example.com/token?x=1'), ['clients[0].tokenUrl: must not have a query or fragment']);
  t.strictSame(tokenUrlProblems('https://sso.example.com/token#top'), ['clients[0].tokenUrl: must not have a query or fragment']);
  t.strictSame(tokenUrlProblems('https://user:pw@sso.example.com/token'), ['clients[0].tokenUrl: must not contain credentials']);
  for (const loopback of ['http://127.0.0.1:9000/token', 'http://127.5.6.7/token', 'http://localhost:9000/token', 'http://[::1]:9000/token']) {
    t.equal(parse({ clients: [client({ tokenUrl: loopback })] }).clients[0]?.tokenUrl, loopback, loopback);
  }
  // Only localhost, 127.0.0.0/8 and ::1 are loopback: names that merely contain "localhost" are anyone's.
  for (const lookalike of ['http://evil-localhost/token', 'http://x.localhost/token', 'http://localhost.evil.example/token', 'http://128.0.0.1/token', 'http://[::2]/token']) {
    t.strictSame(tokenUrlProblems(lookalike), ['clients[0].tokenUrl: must be https (http only on loopback addresses)'], `token URL ${lookalike} refused`);
    const upstream = lookalike.replace('/token', '');
    t.strictSame(problemsOf(withRoutes({ prefix: '/lab', upstream })), ['routes[0].upstream: must be https (http only on loopback addresses)'], `upstream ${upstream} refused`);
  }

  t.strictSame(problemsOf(withRoutes({ prefix: '/lab', upstream: 'http://lab.example.com' })), [
    'routes[0].upstream: must be https (http only on loopback addresses)',
  ]);
  t.strictSame(problemsOf(withRoutes({ prefix: '/lab', upstream: 'https://lab.example.com/?a=b' })), [
    'routes[0].upstream: must not have a query or fragment',
  ]);
  t.strictSame(problemsOf(withRoutes({ prefix: '/lab', upstream: 'https://me@lab.example.com' })), ['routes[0].upstream: must not contain credentials']);
  t.strictSame(problemsOf(withRoutes({ prefix: '/lab', upstream: 'lab.example.com' })), [
    'routes[0].upstream: must be an absolute URL such as https://host/path',
  ]);
  const config = parse(
    withRoutes({ prefix: '/a', upstream: 'https://lab.example.com/' }, { prefix: '/b', upstream: 'http://127.0.0.1:9999/base//' }),
  );
  t.strictSame(
    config.routes.map((route) => route.upstream),
    ['https://lab.example.com', 'http://127.0.0.1:9999/base'],
    'trailing slashes are removed, the base path kept',
  );
});

t.test('route prefixes', async (t) => {
  const prefixProblems = (prefix: string) => problemsOf(withRoutes({ prefix, upstream: 'https://x.example.com' }));
  t.strictSame(prefixProblems('dscc/us1'), ['routes[0].prefix: must start with /']);
  t.strictSame(prefixProblems('/lab/'), ['routes[0].prefix: must not end with /']);
  t.strictSame(prefixProblems('/'), ['routes[0].prefix: must not end with /']);
  t.strictSame(prefixProblems('/lab//x'), ['routes[0].prefix: must not contain empty segments (//)']);
  t.strictSame(prefixProblems('/lab/../x'), ['routes[0].prefix: must not contain . or .. segments']);
  t.strictSame(prefixProblems('/./x'), ['routes[0].prefix: must not contain . or .. segments']);
  t.strictSame(prefixProblems('/lab x'), ['routes[0].prefix: segments may contain only A-Z a-z 0-9 . _ ~ -']);
  t.strictSame(prefixProblems('/lab%2F'), ['routes[0].prefix: segments may contain only A-Z a-z 0-9 . _ ~ -']);
  t.strictSame(prefixProblems('/-'), ['routes[0].prefix: must not be /- or start with /-/ (reserved for the admin endpoints)']);
  t.strictSame(prefixProblems('/-/status'), ['routes[0].prefix: must not be /- or start with /-/ (reserved for the admin endpoints)']);
  t.equal(parse(withRoutes({ prefix: '/-lab/A.b_c~d', upstream: 'https://x.example.com' })).routes[0]?.prefix, '/-lab/A.b_c~d');
  t.strictSame(problemsOf(withRoutes({ prefix: '/dscc/us1' }, { prefix: '/lab', upstream: 'https://x.example.com' }, { prefix: '/dscc/us1' })), [
    'routes[2].prefix: duplicate: routes[0] has the same prefix',
  ]);
  t.strictSame(problemsOf(minimal({ routes: [] })), ['routes: must not be empty (leave it out to serve every catalog route)']);
});

t.test('route upstreams from the catalog', async (t) => {
  const config = parse(withRoutes({ prefix: '/dscc/us1' }, { prefix: '/com/eu-central1', upstream: 'https://mirror.example.com/com' }));
  t.equal(config.routes[0]?.upstream, 'https://us1.data.cloud.hpe.com', 'a catalog prefix takes the catalog upstream');
  t.equal(config.routes[1]?.upstream, 'https://mirror.example.com/com', 'an explicit upstream wins over the catalog');
  t.strictSame(problemsOf(withRoutes({ prefix: '/dscc/us1' }, { prefix: '/dscc/us1' }, { prefix: '/lab' })), [
    'routes[2].upstream: missing (prefix /lab is not in the catalog)',
    'routes[1].prefix: duplicate: routes[0] has the same prefix',
  ]);
  t.strictSame(problemsOf(withRoutes({ port: 9001 })), ['routes[0].upstream: missing (a route without a prefix has no catalog entry)']);
  t.strictSame(problemsOf(withRoutes({ client: 'team' })), ['routes[0]: needs a prefix or a port (or both)']);
});

t.test('route ports', async (t) => {
  const portProblems = (port: unknown) => problemsOf(withRoutes({ port, upstream: 'https://x.example.com' }));
  t.strictSame(portProblems(0), ['routes[0].port: must be an integer from 1 to 65535']);
  t.strictSame(portProblems(65536), ['routes[0].port: must be an integer from 1 to 65535']);
  t.strictSame(portProblems(90.5), ['routes[0].port: must be an integer from 1 to 65535']);
  t.strictSame(portProblems('9001'), ['routes[0].port: must be an integer from 1 to 65535']);
  t.strictSame(portProblems(8080), ['routes[0].port: must differ from listen.port'], 'the default listen port counts');
  t.strictSame(
    problemsOf(minimal({ listen: { port: 9000 }, routes: [{ port: 9000, upstream: 'https://x.example.com' }] })),
    ['routes[0].port: must differ from listen.port'],
  );
  t.strictSame(problemsOf(withRoutes({ port: 9001, prefix: '/dscc/us1' }, { port: 9001, prefix: '/dscc/eu1' })), [
    'routes[1].port: duplicate: routes[0] has the same port',
  ]);
  const anyPort = parse(minimal({ listen: { port: 0 }, routes: [{ port: 8080, upstream: 'https://x.example.com' }] }));
  t.equal(anyPort.listen.port, 0, 'listen.port 0 is allowed');
  t.equal(anyPort.routes[0]?.port, 8080, 'a route port cannot collide with listen.port 0');
  t.strictSame(problemsOf(minimal({ listen: { port: -1 } })), ['listen.port: must be an integer from 0 to 65535']);
  t.strictSame(problemsOf(minimal({ listen: { port: 65536 } })), ['listen.port: must be an integer from 0 to 65535']);
});

t.test('route clients and regions', async (t) => {
  const twoClients = (routes: Raw[]) => ({ clients: [client({ name: 'first' }), client({ name: 'second' })], routes });
  const config = parse(
    twoClients([
      { prefix: '/dscc/us1' },
      { prefix: '/dscc/eu1', client: 'second', region: 'eu' },
      { port: 9001, upstream: 'https://x.example.com' },
      { port: 9002, prefix: '/lab', upstream: 'https://x.example.com' },
    ]),
  );
  t.strictSame(
    config.routes.map((route) => [route.client, route.region]),
    [
      ['first', '/dscc/us1'],
      ['second', 'eu'],
      ['first', 'port:9001'],
      ['first', '/lab'],
    ],
  );
  t.equal(config.routes[0]?.port, undefined);
  t.equal(config.routes[2]?.prefix, undefined);
  t.strictSame(problemsOf(twoClients([{ prefix: '/dscc/us1' }, { prefix: '/dscc/eu1', client: 'x' }])), ['routes[1].client: no client named "x"']);
  t.strictSame(problemsOf(twoClients([{ prefix: '/dscc/us1', region: '' }])), ['routes[0].region: must not be empty']);
});

t.test('timeouts and tokens must be positive integers', async (t) => {
  t.strictSame(problemsOf(minimal({ timeouts: { tokenWaitMs: 0 } })), ['timeouts.tokenWaitMs: must be an integer from 1 to 2147483647']);
  t.strictSame(problemsOf(minimal({ timeouts: { upstreamBodyMs: 1.5 } })), ['timeouts.upstreamBodyMs: must be an integer from 1 to 2147483647']);
  t.strictSame(problemsOf(minimal({ timeouts: { shutdownGraceMs: '10s' } })), ['timeouts.shutdownGraceMs: must be an integer from 1 to 2147483647']);
  t.strictSame(problemsOf(minimal({ timeouts: { upstreamHeadersMs: 2 ** 31 } })), [
    'timeouts.upstreamHeadersMs: must be an integer from 1 to 2147483647',
  ]);
  t.strictSame(problemsOf(minimal({ tokens: { minTtlSeconds: -1 } })), ['tokens.minTtlSeconds: must be an integer from 0 to 2147483647']);
  t.strictSame(problemsOf(minimal({ tokens: { maxAttempts: 0 } })), ['tokens.maxAttempts: must be an integer from 1 to 2147483647']);
  t.strictSame(problemsOf(minimal({ tokens: { defaultLifetimeSeconds: 0 } })), [
    'tokens.defaultLifetimeSeconds: must be an integer from 1 to 2147483647',
  ]);
  t.strictSame(problemsOf(minimal({ tokens: { backoffBaseMs: 5000, backoffMaxMs: 1000 } })), ['tokens.backoffMaxMs: must be at least tokens.backoffBaseMs']);
  t.strictSame(problemsOf(minimal({ tokens: { backoffBaseMs: 60000 } })), ['tokens.backoffMaxMs: must be at least tokens.backoffBaseMs']);
});

t.test('caFile must be readable', async (t) => {
  const dir = t.testdir({ 'ca.pem': '-----BEGIN CERTIFICATE-----\n' });
  const missing = path.join(dir, 'missing.pem');
  t.strictSame(problemsOf(minimal({ caFile: missing })), [`caFile: cannot read ${missing} (ENOENT)`]);
  t.strictSame(problemsOf(minimal({ caFile: dir })), [`caFile: cannot read ${dir} (EISDIR)`]);
  t.strictSame(problemsOf(minimal({ caFile: 42 })), ['caFile: expected a string, got a number (put it in quotes)']);
  t.equal(parse(minimal({ caFile: path.join(dir, 'ca.pem') })).caFile, path.join(dir, 'ca.pem'));
});

// -------------------------------------------------------------------------------------------------
// inbound and listen.tls

const KEY_HASH = `sha256:${'ab'.repeat(32)}`;
const OTHER_HASH = `sha256:${'cd'.repeat(32)}`;

function withInbound(inbound: Raw, extra: Raw = {}): Raw {
  return minimal({ inbound, ...extra });
}

function apiKey(extra: Raw = {}): Raw {
  return { name: 'ci', keyHash: KEY_HASH, clients: ['team'], ...extra };
}

t.test('inbound: a full configuration resolves, host names normalised', async (t) => {
  const config = parse(
    withInbound(
      {
        allowedHosts: ['Proxy.Team.Example', '10.0.0.7', 'fd00::7', '[FD00::8]'],
        allowedOrigins: ['https://Console.Team.Example', 'http://localhost:3000'],
        requireHeader: { name: 'X-GreenLake-Proxy', value: 'true' },
        apiKeys: [apiKey({ routes: ['/lab', 'port:9001'], methods: ['GET', 'HEAD'] })],
        jwt: { issuer: 'https://idp.example.com', audience: 'greenlake-proxy', jwksUrl: 'https://idp.example.com/jwks', clients: { admins: ['team'] } },
        rateLimit: { max: 100 },
        maxHeaderBytes: 8192,
      },
      { routes: [{ prefix: '/lab', upstream: 'https://x.example.com' }, { port: 9001, upstream: 'https://y.example.com' }] },
    ),
  );
  t.strictSame(config.inbound.allowedHosts, ['proxy.team.example', '10.0.0.7', '[fd00::7]', '[fd00::8]']);
  t.strictSame(config.inbound.allowedOrigins, ['https://console.team.example', 'http://localhost:3000']);
  t.strictSame(config.inbound.apiKeys, [{ name: 'ci', keyHash: KEY_HASH, clients: ['team'], routes: ['/lab', 'port:9001'], methods: ['GET', 'HEAD'], admin: false, readOnly: false, allow: undefined }]);
  t.strictSame(config.inbound.jwt?.adminClaimValues, [], 'no JWT holder is admin unless named');
  t.equal(config.inbound.jwt?.claim, 'groups', 'the JWT claim defaults to groups');
  t.strictSame(config.inbound.rateLimit, { max: 100, timeWindowMs: 60000 });
  t.equal(config.inbound.maxHeaderBytes, 8192);
  t.ok(Object.isFrozen(config.inbound.apiKeys[0]?.clients), 'frozen like the rest');
});

t.test('inbound.apiKeys: hash format, known clients, routes and methods, no duplicates', async (t) => {
  const keys = (...apiKeys: Raw[]) => withInbound({ apiKeys });
  for (const keyHash of ['ab'.repeat(32), `sha256:${'AB'.repeat(32)}`, `sha256:${'ab'.repeat(31)}`, `sha512:${'ab'.repeat(32)}`, 'the-key-itself']) {
    t.strictSame(problemsOf(keys(apiKey({ keyHash }))), [
      'inbound.apiKeys[0].keyHash: must be sha256: and 64 lower-case hex digits (greenlake-proxy hash-key prints it)',
    ]);
  }
  t.strictSame(problemsOf(keys(apiKey({ clients: ['nobody'] }))), ['inbound.apiKeys[0].clients[0]: no client named "nobody"']);
  const noClient = ['inbound.apiKeys[0].clients: must name at least one client (or the key is admin: true only)'];
  t.strictSame(problemsOf(keys(apiKey({ clients: [] }))), noClient);
  t.strictSame(problemsOf(keys(apiKey({ clients: undefined }))), noClient);
  t.strictSame(parse(keys(apiKey({ clients: [], admin: true }))).inbound.apiKeys[0]?.admin, true, 'an admin-only key needs no client');
  t.strictSame(problemsOf(keys(apiKey({ admin: 'yes' }))), ['inbound.apiKeys[0].admin: expected true or false, got a string'], 'admin is validated');
  t.strictSame(problemsOf(keys(apiKey({ routes: ['/dscc/us1', '/nope', 'port:9001'] }))), [
    'inbound.apiKeys[0].routes[1]: no route named "/nope"',
    'inbound.apiKeys[0].routes[2]: no route named "port:9001"',
  ]);
  t.strictSame(problemsOf(keys(apiKey({ routes: [] }))), ['inbound.apiKeys[0].routes: must not be empty (leave it out instead)']);
  t.strictSame(problemsOf(keys(apiKey({ methods: ['get'] }))), ['inbound.apiKeys[0].methods[0]: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']);
  t.strictSame(problemsOf(keys(apiKey({ methods: ['TRACE'] }))), ['inbound.apiKeys[0].methods[0]: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS']);
  t.strictSame(problemsOf(keys(apiKey(), apiKey({ keyHash: OTHER_HASH }))), ['inbound.apiKeys[1].name: duplicate: inbound.apiKeys[0] has the same name']);
  t.strictSame(problemsOf(keys(apiKey(), apiKey({ name: 'ci2' }))), ['inbound.apiKeys[1].keyHash: duplicate: inbound.apiKeys[0] has the same key']);
  t.strictSame(problemsOf(keys(apiKey({ name: 'c i' }))), ['inbound.apiKeys[0].name: may contain only A-Z a-z 0-9 . _ -']);
  t.strictSame(problemsOf(keys(apiKey({ key: 'plain' }))), ['inbound.apiKeys[0].key: unknown key']);
  t.same(parse(keys(apiKey({ routes: ['/dscc/us1'] }))).inbound.apiKeys[0]?.routes, ['/dscc/us1'], 'without routes, catalog prefixes name routes');
});

t.test('inbound hosts, origins, required header, rate limit and header size', async (t) => {
  for (const host of ['proxy.example.com:8080', 'https://proxy.example.com', '*.example.com', 'proxy example', '', '[not-ipv6]']) {
    t.strictSame(problemsOf(withInbound({ allowedHosts: [host] })), [
      'inbound.allowedHosts[0]: must be a host name or IP address, without scheme, port or wildcard',
    ]);
  }
  for (const origin of ['https://tool.example.com/', 'https://tool.example.com/app', 'tool.example.com', 'ftp://tool.example.com', '*', 'null']) {
    t.strictSame(problemsOf(withInbound({ allowedOrigins: [origin] })), [
      'inbound.allowedOrigins[0]: must be an origin such as https://tool.example.com (scheme, host, optional port; no path or trailing /)',
    ]);
  }
  t.strictSame(problemsOf(withInbound({ requireHeader: { name: 'X Bad', value: 'v' } })), ['inbound.requireHeader.name: must be an HTTP header name']);
  t.strictSame(problemsOf(withInbound({ requireHeader: { name: 'X-Ok', value: 'a\r\nb' } })), ['inbound.requireHeader.value: must be visible ASCII characters (spaces only inside)']);
  t.strictSame(problemsOf(withInbound({ requireHeader: { name: 'X-Ok' } })), ['inbound.requireHeader.value: missing']);
  t.strictSame(problemsOf(withInbound({ rateLimit: { max: 0 } })), ['inbound.rateLimit.max: must be an integer from 1 to 2147483647']);
  t.strictSame(problemsOf(withInbound({ rateLimit: {} })), ['inbound.rateLimit.max: missing']);
  t.strictSame(problemsOf(withInbound({ rateLimit: { max: 5, timeWindowMs: 0 } })), ['inbound.rateLimit.timeWindowMs: must be an integer from 1 to 2147483647']);
  t.strictSame(problemsOf(withInbound({ maxHeaderBytes: 100 })), ['inbound.maxHeaderBytes: must be an integer from 1024 to 1048576']);
  t.strictSame(problemsOf(withInbound({ allowUnauthenticated: 'yes' })), ['inbound.allowUnauthenticated: expected true or false, got a string']);
  t.strictSame(problemsOf(withInbound({ apikeys: [] })), ['inbound.apikeys: unknown key']);
  t.strictSame(problemsOf(minimal({ timeouts: { inboundHeadersMs: 0 } })), ['timeouts.inboundHeadersMs: must be an integer from 1 to 2147483647']);
});

t.test('inbound.jwt: https JWKS URL, known clients', async (t) => {
  const jwt = (extra: Raw) => withInbound({ jwt: { issuer: 'https://idp.example.com', audience: 'proxy', jwksUrl: 'https://idp.example.com/jwks', clients: { admins: ['team'] }, ...extra } });
  t.strictSame(problemsOf(jwt({ jwksUrl: 'http://idp.example.com/jwks' })), ['inbound.jwt.jwksUrl: must be https (http only on loopback addresses)']);
  t.strictSame(problemsOf(jwt({ clients: { admins: ['team', 'nobody'] } })), ['inbound.jwt.clients.admins[1]: no client named "nobody"']);
  t.strictSame(problemsOf(jwt({ clients: { admins: [] } })), ['inbound.jwt.clients.admins: must name at least one client']);
  t.strictSame(problemsOf(jwt({ audience: undefined })), ['inbound.jwt.audience: missing']);
  t.equal(parse(jwt({ jwksUrl: 'http://127.0.0.1:9000/jwks', claim: 'roles' })).inbound.jwt?.claim, 'roles');
});

t.test('listen.tls: both files readable, relative to the config file', async (t) => {
  const dir = t.testdir({ conf: { 'proxy.yaml': 'listen: { tls: { certFile: tls/cert.pem, keyFile: tls/key.pem } }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n', tls: { 'cert.pem': 'C', 'key.pem': 'K' } } });
  const config = await loadConfig({ file: path.join(dir, 'conf', 'proxy.yaml'), env: {} });
  t.strictSame(config.listen.tls, { certFile: path.join(dir, 'conf', 'tls', 'cert.pem'), keyFile: path.join(dir, 'conf', 'tls', 'key.pem') });
  const missing = path.join(dir, 'missing.pem');
  t.strictSame(problemsOf(minimal({ listen: { tls: { certFile: missing, keyFile: missing } } })), [
    `listen.tls.certFile: cannot read ${missing} (ENOENT)`,
    `listen.tls.keyFile: cannot read ${missing} (ENOENT)`,
  ]);
  t.strictSame(problemsOf(minimal({ listen: { tls: { certFile: missing } } })), ['listen.tls.keyFile: missing', `listen.tls.certFile: cannot read ${missing} (ENOENT)`]);
});

t.test('a non-loopback listen.host needs inbound authentication or allowUnauthenticated', async (t) => {
  const exposed = 'listen.host: not a loopback address, and no inbound authentication is configured';
  t.match(problemsOf(minimal({ listen: { host: '0.0.0.0' } })), [new RegExp(`^${escapeRegExp(exposed)}`)]);
  t.match(problemsOf(minimal({ listen: { host: '::' }, inbound: { apiKeys: [] } })), [new RegExp(`^${escapeRegExp(exposed)}`)], 'an empty key list is no authentication');
  t.equal(parse(withInbound({ apiKeys: [apiKey()] }, { listen: { host: '0.0.0.0' } })).listen.host, '0.0.0.0');
  t.equal(parse(withInbound({ allowUnauthenticated: true }, { listen: { host: '10.0.0.1' } })).listen.host, '10.0.0.1');
  t.equal(parse(minimal({ listen: { host: '127.1.2.3' } })).listen.host, '127.1.2.3');
});

t.test('${VAR} interpolation', async (t) => {
  const env = { TEAM: 'storage', ID: 'the-id', SECRET_VAR: SECRET, HOST: 'lab.example.com' };
  const config = parse(
    {
      clients: [{ name: '${TEAM}-team', clientId: '${ID}', clientSecret: '${SECRET_VAR}' }],
      routes: [{ prefix: '/lab', upstream: 'https://${HOST}/v1', region: 'cost $${NOT_A_VAR} and $$ and $ {x}' }],
    },
    env,
  );
  t.equal(config.clients[0]?.name, 'storage-team', 'inside a string');
  t.equal(config.clients[0]?.clientId, 'the-id');
  t.strictSame(config.clients[0]?.secret, { kind: 'value', value: SECRET });
  t.equal(config.routes[0]?.upstream, 'https://lab.example.com/v1');
  t.equal(config.routes[0]?.region, 'cost ${NOT_A_VAR} and $$ and $ {x}', '$${ is a literal ${');
  t.equal(config.routes[0]?.client, 'storage-team');

  const substitutedOnce = parse({ clients: [client({ clientSecret: '${S}' })] }, { S: 'p${ID}q', ID: 'no' });
  t.strictSame(substitutedOnce.clients[0]?.secret, { kind: 'value', value: 'p${ID}q' }, 'a substituted value is not interpolated again');

  t.strictSame(problemsOf({ clients: [client({ clientSecret: '${GREENLAKE_CLIENT_SECRET}' })] }, {}), [
    'clients[0].clientSecret: environment variable GREENLAKE_CLIENT_SECRET is not set',
  ]);
  t.strictSame(problemsOf(withRoutes({ prefix: '/lab', upstream: 'https://${LAB_HOST}' }), {}), [
    'routes[0].upstream: environment variable LAB_HOST is not set',
  ]);
  t.strictSame(problemsOf({ clients: [client({ clientId: '${1BAD}' })] }), [
    'clients[0].clientId: malformed ${...} reference: use ${NAME} with letters, digits and _, or $${ for a literal ${',
  ]);
  t.strictSame(problemsOf(minimal({ listen: { port: 8080, host: '${UNSET_HOST' } })), [
    'listen.host: malformed ${...} reference: use ${NAME} with letters, digits and _, or $${ for a literal ${',
  ]);
  t.strictSame(parse(minimal({ listen: { port: 8080, host: '${EMPTY}' } }), { EMPTY: 'localhost' }).listen.host, 'localhost');
});

// -------------------------------------------------------------------------------------------------

t.test('several problems are reported together, each line prefixed by the source', async (t) => {
  const error = configErrorFrom(() =>
    parseConfig(
      {
        listen: { port: 70000 },
        clients: [client({ name: 'a' }), { name: 'a', clientId: 'id' }],
        routes: [{ prefix: '/lab' }, { prefix: '/dscc/us1', client: 'nobody' }],
        tokens: { maxAttempts: 0 },
        extra: true,
      },
      {},
      'my-config.yaml',
    ),
  );
  t.strictSame(error.problems, [
    'listen.port: must be an integer from 0 to 65535',
    'tokens.maxAttempts: must be an integer from 1 to 2147483647',
    'extra: unknown key',
    'clients[1]: needs clientSecret or clientSecretFile',
    'clients[1].name: duplicate: clients[0] has the same name',
    'routes[0].upstream: missing (prefix /lab is not in the catalog)',
    'routes[1].client: no client named "nobody"',
  ]);
  t.equal(error.message, error.problems.map((problem) => `my-config.yaml: ${problem}`).join('\n'));
  t.equal(error.code, 'GREENLAKE_PROXY_CONFIG_INVALID');
  t.equal(error.name, 'ConfigError');
  t.ok(error instanceof Error);
});

// -------------------------------------------------------------------------------------------------

t.test('token request parameters: scope, audience, resource, tokenParams, basicEncoding', async (t) => {
  const config = parse({
    clients: [
      client({
        scope: 'api://greenlake/.default',
        audience: 'https://api.example',
        resource: 'https://resource.example',
        tokenParams: { organization: 'org_1', 'x-extra': '${VALUE}' },
        authMethod: 'client_secret_basic',
        basicEncoding: 'raw',
      }),
    ],
  }, { VALUE: 'from-env' });
  t.strictSame(config.clients[0]?.tokenParams, {
    scope: 'api://greenlake/.default',
    audience: 'https://api.example',
    resource: 'https://resource.example',
    organization: 'org_1',
    'x-extra': 'from-env',
  }, 'the own keys first, then tokenParams; ${VAR} works in values');
  t.equal(config.clients[0]?.basicEncoding, 'raw');
  const plain = parse(minimal()).clients[0];
  t.strictSame([plain?.tokenParams, plain?.basicEncoding], [{}, 'form'], 'defaults: no parameters, form-encoded Basic');

  const reserved = 'is set by the proxy (the grant and the client authentication) and may not be overridden';
  t.strictSame(problemsOf({ clients: [client({ tokenParams: { grant_type: 'password', client_id: 'x', Client_Secret: 'y', subject_token: 'z' } })] }), [
    `clients[0].tokenParams.grant_type: ${reserved}`,
    `clients[0].tokenParams.client_id: ${reserved}`,
    `clients[0].tokenParams.Client_Secret: ${reserved}`,
    `clients[0].tokenParams.subject_token: ${reserved}`,
  ]);
  t.strictSame(problemsOf({ clients: [client({ tokenParams: { scope: 'a', Audience: 'b' } })] }), [
    'clients[0].tokenParams.scope: has its own key: set clients[].scope instead',
    'clients[0].tokenParams.Audience: has its own key: set clients[].audience instead',
  ]);
  t.strictSame(problemsOf({ clients: [client({ tokenParams: { n: 1 }, scope: '' })] }), [
    'clients[0].scope: must not be empty',
    'clients[0].tokenParams.n: expected a string, got a number (put it in quotes)',
  ]);
  t.strictSame(problemsOf({ clients: [client({ basicEncoding: 'raw' })] }), ['clients[0].basicEncoding: applies only to authMethod: client_secret_basic']);
  t.strictSame(problemsOf({ clients: [client({ authMethod: 'client_secret_basic', basicEncoding: 'raw', clientId: 'odd:id' })] }), [
    'clients[0].clientId: contains ":", which basicEncoding: raw cannot send (use form)',
  ]);
  t.strictSame(problemsOf({ clients: [client({ authMethod: 'client_secret_basic', basicEncoding: 'base64' })] }), ['clients[0].basicEncoding: must be one of form, raw']);
});

t.test('a recursive YAML alias is a configuration problem (exit 2), not a stack overflow', async (t) => {
  const dir = t.testdir({
    'recursive.yaml': 'clients: &c\n  - name: a\n    clientId: i\n    clientSecret: s\n    tenants: *c\n',
    'shared.yaml': 'clients:\n  - name: a\n    clientId: i\n    clientSecret: s\n    tenants: &t []\n  - name: b\n    clientId: j\n    clientSecret: s\n    tenants: *t\n',
  });
  const error = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'recursive.yaml'), env: {} }));
  t.strictSame(error.problems, ['YAML alias *c at line 5, column 14 refers to a node that contains it (a recursive alias)']);
  t.equal((await loadConfig({ file: path.join(dir, 'shared.yaml'), env: {} })).clients.length, 2, 'an alias used elsewhere is fine');
  const run = await runCli(['check', '--config', path.join(dir, 'recursive.yaml')]);
  t.equal(run.code, 2, 'the command line exits 2');
  t.match(run.stderr, /recursive alias/);
  t.notMatch(run.stderr, /RangeError|Maximum call stack/);
});

t.test('files: YAML and JSON', async (t) => {
  const dir = t.testdir({
    'proxy.yaml': 'listen:\n  port: 9100\nclients:\n  - name: yaml-team\n    clientId: ${ID}\n    clientSecret: "${SECRET_VAR}"\n',
    'proxy.json': JSON.stringify({ listen: { port: 9200 }, clients: [{ name: 'json-team', clientId: '${ID}', clientSecret: 'x' }] }),
    'json-in.yml': '{"clients": [{"name": "yml-team", "clientId": "i", "clientSecret": "s"}]}',
    'bad.yaml': `clients:\n  - name: a\n    clientId: ${SECRET}\n   clientSecret: x\n`,
    'bad.json': `{\n  "clients": [\n    {"clientSecret": "${SECRET}" "name": "a"}\n  ]\n}\n`,
    'empty.yaml': '',
    'two-docs.yaml': 'clients: []\n---\nclients: []\n',
    'duplicate-key.yaml': 'clients: []\nclients: []\n',
  });
  const env = { ID: 'file-id', SECRET_VAR: SECRET };

  const yaml = await loadConfig({ file: path.join(dir, 'proxy.yaml'), env });
  t.equal(yaml.clients[0]?.name, 'yaml-team');
  t.equal(yaml.clients[0]?.clientId, 'file-id');
  t.equal(yaml.listen.port, 9100);
  t.equal(yaml.source, path.join(dir, 'proxy.yaml'));

  const json = await loadConfig({ file: path.join(dir, 'proxy.json'), env });
  t.equal(json.clients[0]?.name, 'json-team');
  t.equal(json.clients[0]?.clientId, 'file-id', '${VAR} works in JSON files too');
  t.equal(json.listen.port, 9200);

  t.equal((await loadConfig({ file: path.join(dir, 'json-in.yml'), env })).clients[0]?.name, 'yml-team', 'YAML reads JSON');

  const fromEnvVariable = await loadConfig({ env: { ...env, GREENLAKE_PROXY_CONFIG: path.join(dir, 'proxy.yaml') } });
  t.equal(fromEnvVariable.clients[0]?.name, 'yaml-team', 'GREENLAKE_PROXY_CONFIG names the file');
  const flagWins = await loadConfig({ file: path.join(dir, 'proxy.json'), env: { ...env, GREENLAKE_PROXY_CONFIG: path.join(dir, 'proxy.yaml') } });
  t.equal(flagWins.clients[0]?.name, 'json-team', '--config wins over GREENLAKE_PROXY_CONFIG');

  const badYaml = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'bad.yaml'), env }));
  t.equal(badYaml.problems.length, 1);
  t.match(badYaml.problems[0], /^YAML syntax error at line 4, column \d+ \(/);
  t.match(badYaml.message, new RegExp(`^config file ${escapeRegExp(path.join(dir, 'bad.yaml'))}: YAML syntax error at line 4`));
  t.notMatch(badYaml.message, SECRET);

  const badJson = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'bad.json'), env }));
  t.match(badJson.problems, [/^JSON syntax error at line 3, column \d+$/]);
  t.notMatch(badJson.message, SECRET);

  const missing = path.join(dir, 'missing.yaml');
  const unreadable = await configErrorFromAsync(() => loadConfig({ file: missing, env }));
  t.equal(unreadable.message, `config file ${missing}: cannot read (ENOENT)`);
  t.strictSame(unreadable.problems, ['cannot read (ENOENT)']);

  const empty = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'empty.yaml'), env }));
  t.strictSame(empty.problems, ['the configuration is empty']);

  const twoDocs = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'two-docs.yaml'), env }));
  t.match(twoDocs.problems, [/^YAML syntax error at line 2, column \d+ \(multiple docs\)$/]);

  const duplicateKey = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'duplicate-key.yaml'), env }));
  t.strictSame(duplicateKey.problems, ['YAML syntax error at line 2, column 1 (duplicate key)']);

  const validationError = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'proxy.yaml'), env: {} }));
  t.equal(
    validationError.message,
    [
      `config file ${path.join(dir, 'proxy.yaml')}: clients[0].clientId: environment variable ID is not set`,
      `config file ${path.join(dir, 'proxy.yaml')}: clients[0].clientSecret: environment variable SECRET_VAR is not set`,
    ].join('\n'),
  );
});

t.test('relative caFile and clientSecretFile paths are relative to the config file', async (t) => {
  const dir = t.testdir({
    'conf': {
      'proxy.yaml': 'clients:\n  - name: a\n    clientId: i\n    clientSecretFile: secrets/glp\ncaFile: ca.pem\n',
      'ca.pem': 'PEM',
      'secrets': { 'glp': 'file-secret\n' },
    },
  });
  const config = await loadConfig({ file: path.join(dir, 'conf', 'proxy.yaml'), env: {} });
  t.equal(config.caFile, path.join(dir, 'conf', 'ca.pem'));
  t.strictSame(config.clients[0]?.secret, { kind: 'file', path: path.join(dir, 'conf', 'secrets', 'glp') });
  const first = config.clients[0];
  if (first === undefined) throw new Error('no client');
  t.equal(await readSecret(first), 'file-secret');
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// -------------------------------------------------------------------------------------------------

t.test('listen host and port: flags win over environment, which wins over the file', async (t) => {
  const dir = t.testdir({
    'proxy.yaml': `listen: { host: 0.0.0.0, port: 9100 }\ninbound: { allowUnauthenticated: true }\nclients: [{ name: a, clientId: i, clientSecret: s }]\n`,
  });
  const file = path.join(dir, 'proxy.yaml');
  const fromFile = await loadConfig({ file, env: {} });
  t.strictSame(fromFile.listen, { host: '0.0.0.0', port: 9100 });

  const env = { GREENLAKE_PROXY_HOST: '::1', GREENLAKE_PROXY_PORT: '9200' };
  t.strictSame((await loadConfig({ file, env })).listen, { host: '::1', port: 9200 });
  t.strictSame((await loadConfig({ file, env, overrides: { port: 9300 } })).listen, { host: '::1', port: 9300 });
  t.strictSame((await loadConfig({ file, env, overrides: { host: 'localhost', port: 0 } })).listen, { host: 'localhost', port: 0 });
  t.strictSame((await loadConfig({ file, env: {}, overrides: { host: '127.0.0.2' } })).listen, { host: '127.0.0.2', port: 9100 });
  t.strictSame((await loadConfig({ file, env: { GREENLAKE_PROXY_PORT: '' } })).listen.port, 9100, 'an empty variable is unset');

  const zeroConfig = await loadConfig({
    env: { GREENLAKE_CLIENT_ID: 'i', GREENLAKE_CLIENT_SECRET: 's', GREENLAKE_PROXY_PORT: '0' },
    overrides: { host: '127.0.0.3' },
  });
  t.strictSame(zeroConfig.listen, { host: '127.0.0.3', port: 0 });

  const badFlag = await configErrorFromAsync(() => loadConfig({ file, env: {}, overrides: { port: 70000 } }));
  t.equal(badFlag.message, 'command line: --port: must be an integer from 0 to 65535');
});

t.test('a route port is checked against the final listen port', async (t) => {
  const dir = t.testdir({
    'proxy.yaml': 'listen: { port: 9100 }\nclients: [{ name: a, clientId: i, clientSecret: s }]\nroutes: [{ port: 9200, prefix: /dscc/us1 }]\n',
  });
  const error = await configErrorFromAsync(() => loadConfig({ file: path.join(dir, 'proxy.yaml'), env: { GREENLAKE_PROXY_PORT: '9200' } }));
  t.strictSame(error.problems, ['routes[0].port: must differ from listen.port']);
});

// -------------------------------------------------------------------------------------------------

t.test('readSecret', async (t) => {
  const dir = t.testdir({});
  const file = path.join(dir, 'secret');
  const fileClient: ClientConfig = {
    name: 'team',
    clientId: 'id',
    secret: { kind: 'file', path: file },
    tokenUrl: DEFAULT_TOKEN_URL,
    authMethod: 'client_secret_post',
    basicEncoding: 'form',
    tokenParams: {},
    tenants: [],
    tenantTokenUrl: undefined,
  };

  t.test('a value is returned as is', async (t) => {
    t.equal(await readSecret({ ...fileClient, secret: { kind: 'value', value: ' spaced \n' } }), ' spaced \n');
    const empty = await configErrorFromAsync(() => readSecret({ ...fileClient, secret: { kind: 'value', value: '' } }));
    t.equal(empty.message, 'client team: clientSecret: is empty');
  });

  t.test('a file loses one trailing newline and is re-read at every call', async (t) => {
    await writeFile(file, 'first-secret\n');
    t.equal(await readSecret(fileClient), 'first-secret');
    await writeFile(file, 'second-secret\r\n');
    t.equal(await readSecret(fileClient), 'second-secret', 'rotated secret, CRLF stripped');
    await writeFile(file, 'third-secret\n\n');
    t.equal(await readSecret(fileClient), 'third-secret\n', 'only one newline is stripped');
    await writeFile(file, ' no-newline ');
    t.equal(await readSecret(fileClient), ' no-newline ');
    const long = 'L'.repeat(4096);
    await writeFile(file, `${long}\n`);
    t.equal(await readSecret(fileClient), long, 'a 4096-character secret');
  });

  t.test('an empty file is an error', async (t) => {
    await writeFile(file, '\n');
    const error = await configErrorFromAsync(() => readSecret(fileClient));
    t.equal(error.message, `client team: clientSecretFile: ${file} is empty`);
  });

  t.test('an unreadable file names the path and the errno code, not the content', async (t) => {
    await rm(file, { force: true });
    const missing = await configErrorFromAsync(() => readSecret(fileClient));
    t.equal(missing.message, `client team: clientSecretFile: cannot read ${file} (ENOENT)`);
    const directory = await configErrorFromAsync(() => readSecret({ ...fileClient, secret: { kind: 'file', path: dir } }));
    t.equal(directory.message, `client team: clientSecretFile: cannot read ${dir} (EISDIR)`);
  });
});

// -------------------------------------------------------------------------------------------------

t.test('no secret value appears in any error message', async (t) => {
  const numericSecret = 918273645546372;
  const cases: Array<[string, unknown, string]> = [
    ['secret as a number', { clients: [client({ clientSecret: numericSecret })] }, String(numericSecret)],
    ['secret under an unknown key', { clients: [client({ clientSecrett: SECRET })] }, SECRET],
    ['secret as credentials in tokenUrl', { clients: [client({ tokenUrl: `https://user:${SECRET}@sso.example.com/token` })] }, SECRET],
    ['secret in the query of tokenUrl', { clients: [client({ tokenUrl: `https://sso.example.com/token?secret=${SECRET}` })] }, SECRET],
    ['secret in an http tokenUrl', { clients: [client({ tokenUrl: `http://sso.example.com/${SECRET}` })] }, SECRET],
    ['secret as tokenUrl', { clients: [client({ tokenUrl: SECRET })] }, SECRET],
    ['secret as authMethod', { clients: [client({ authMethod: SECRET })] }, SECRET],
    ['secret as a client name', { clients: [client({ name: `${SECRET} !` })] }, SECRET],
    ['secret as a prefix', withRoutes({ prefix: `/${SECRET}/`, upstream: 'https://x.example.com' }), SECRET],
    ['secret as a port', withRoutes({ prefix: '/lab', port: SECRET, upstream: 'https://x.example.com' }), SECRET],
    ['secret as a timeout', minimal({ timeouts: { tokenWaitMs: SECRET } }), SECRET],
    ['the key itself pasted as keyHash', minimal({ inbound: { apiKeys: [{ name: 'ci', keyHash: SECRET, clients: ['team'] }] } }), SECRET],
    ['secret as an allowed host with a port', minimal({ inbound: { allowedHosts: [`${SECRET}:443`] } }), SECRET],
    ['secret as an allowed origin', minimal({ inbound: { allowedOrigins: [SECRET] } }), SECRET],
    ['secret as a required header value', minimal({ inbound: { requireHeader: { name: 'X-A', value: `${SECRET}\n` } } }), SECRET],
    ['secret as a JWKS URL', minimal({ inbound: { jwt: { issuer: 'i', audience: 'a', jwksUrl: `https://u:${SECRET}@idp.example.com`, clients: {} } } }), SECRET],
    ['secret as listen', minimal({ listen: SECRET }), SECRET],
    ['secret as clients', { clients: SECRET }, SECRET],
    ['secret in a malformed reference', { clients: [client({ clientSecret: `${SECRET}\${oops` })] }, SECRET],
    ['secret as the whole configuration', SECRET, SECRET],
  ];
  for (const [name, raw, secret] of cases) {
    const error = configErrorFrom(() => parse(raw));
    t.ok(error.problems.length > 0, `${name}: reported`);
    t.notMatch(error.message, secret, `${name}: not in the message`);
    t.notOk(error.problems.some((problem) => problem.includes(secret)), `${name}: not in the problems`);
  }

  const envError = await configErrorFromAsync(() =>
    loadConfig({ env: { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: SECRET, GREENLAKE_TOKEN_URL: `https://${SECRET}@x.example.com` } }),
  );
  t.strictSame(envError.problems, ['GREENLAKE_TOKEN_URL: must not contain credentials']);
  t.notMatch(envError.message, SECRET);
});
