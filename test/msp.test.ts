import t from 'tap';
import { ConfigError, DEFAULT_TENANT_TOKEN_URL, parseConfig } from '../src/config/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { call, client, configFor, DEMO_SECRET, emulator, proxy, type Answer, type Tap } from './helpers/index.ts';
import type { Emulator } from '../src/emulator/index.ts';

// Workspace IDs are hex without hyphens.
const MSP_ID = '00112233445566778899aabbccddeeff';
const ACME_ID = '0123456789abcdef0123456789abcdef';
const BETA_ID = 'fedcba9876543210fedcba9876543210';
const CLIENT_CREDENTIALS = 'client_credentials';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const HEADER = 'X-GreenLake-Workspace';

/** A workspace ID as users copy it: 8-4-4-4-12 hex digits with hyphens. */
function uuidOf(id: string): string {
  return `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
}

type Raw = Record<string, unknown>;

interface TokenStatus {
  client: string;
  region: string;
  tenant: { name: string; workspaceId: string } | null;
  state: string;
  fetches: number;
  lastError: { code: string; message: string } | null;
}

/** One MSP client (the emulator's demo client, its token from the MSP workspace URL) with tenants acme and beta. */
function mspConfig(emu: Emulator, routes: Raw[], clientExtra: Raw = {}): Raw {
  return configFor(emu, {
    clients: [
      {
        name: 'msp',
        clientId: DEMO_CLIENT.clientId,
        clientSecret: DEMO_SECRET,
        tokenUrl: emu.workspaceTokenUrl(MSP_ID),
        tenants: [
          { name: 'acme', workspaceId: ACME_ID },
          { name: 'beta', workspaceId: BETA_ID },
        ],
        ...clientExtra,
      },
    ],
    routes,
  });
}

function route(prefix: string, emu: Emulator, extra: Raw = {}): Raw {
  return { prefix, upstream: emu.url, ...extra };
}

/** The claims of the token the upstream saw on the last API request. */
function lastClaims(emu: Emulator): Record<string, unknown> {
  const auth = emu.apiRequests.at(-1)?.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ')) throw new Error('the upstream saw no bearer token');
  return claimsOf(auth.slice(7));
}

function claimsOf(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1];
  if (payload === undefined) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

function workspacePath(id: string): string {
  return `/authorization/v2/oauth2/${id}/token`;
}

/** What the token endpoint saw, in order: [path, grant type, status]. */
function tokenJournal(emu: Emulator): Array<[string, string | undefined, number]> {
  return emu.tokenRequests.map((r) => [r.path, r.grantType, r.status]);
}

async function tokenStatuses(http: ReturnType<typeof client>, url: string): Promise<TokenStatus[]> {
  return (await call(http, `${url}/-/status`)).json<{ tokens: TokenStatus[] }>().tokens;
}

function assertGreenLakeError(t: Tap, answer: Answer, status: number, errorCode: string, message: RegExp): void {
  t.equal(answer.status, status, `${errorCode}: HTTP ${status}`);
  const body = answer.json<{ httpStatusCode: number; errorCode: string; message: string; debugId: string }>();
  t.match(body, { httpStatusCode: status, errorCode, message, debugId: String });
}

// -------------------------------------------------------------------------------------------------

t.test('a workspace token URL: the client token comes from the workspace endpoint', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, mspConfig(emu, [route('/glp', emu)]));
  const res = await call(client(t), `${gw.url}/glp/devices/v1/devices`);
  t.equal(res.status, 200);
  t.strictSame(tokenJournal(emu), [[workspacePath(MSP_ID), CLIENT_CREDENTIALS, 200]]);
  t.equal(lastClaims(emu).hpe_organization_id, MSP_ID, 'the token names the MSP workspace');
});

t.test('a tenant route: the MSP token is exchanged (RFC 8693) for a tenant token', async (t) => {
  const emu = await emulator(t);
  // One region: the tenant token and the MSP route share the one MSP token.
  const gw = await proxy(t, mspConfig(emu, [route('/msp', emu, { region: 'glp' }), route('/acme', emu, { tenant: 'acme', region: 'glp' })]));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/acme/echo/1`)).status, 200);
  t.strictSame(tokenJournal(emu), [
    [workspacePath(MSP_ID), CLIENT_CREDENTIALS, 200],
    [workspacePath(ACME_ID), TOKEN_EXCHANGE, 200],
  ]);
  t.match(emu.tokenRequests[1], { clientId: DEMO_CLIENT.clientId, authMethod: 'client_secret_post' }, 'the exchange authenticates the client');
  const claims = lastClaims(emu);
  t.equal(claims.hpe_organization_id, ACME_ID, 'the upstream saw a token for the tenant workspace');
  t.equal(claims.platform_customer_id, ACME_ID);
  t.equal(claims.client_id, DEMO_CLIENT.clientId);

  t.equal((await call(http, `${gw.url}/acme/echo/2`)).status, 200);
  t.equal((await call(http, `${gw.url}/msp/echo/3`)).status, 200);
  t.equal(emu.tokenRequests.length, 2, 'both tokens are cached, the MSP one serving the MSP route too: no more token requests');
  t.equal(lastClaims(emu).hpe_organization_id, MSP_ID, 'a route without a tenant still acts on the MSP workspace');

  const tokens = await tokenStatuses(http, gw.url);
  t.match(
    tokens.find((k) => k.region === 'glp' && k.tenant !== null),
    { client: 'msp', tenant: { name: 'acme', workspaceId: ACME_ID }, state: 'valid', fetches: 1 },
    'status shows the tenant token',
  );
  t.match(tokens.find((k) => k.region === 'glp' && k.tenant === null), { state: 'valid', fetches: 1 }, 'and the MSP token it came from');
  t.equal(tokens.length, 2);
  const metrics = (await call(http, `${gw.url}/-/metrics`)).text;
  t.match(metrics, /greenlake_proxy_token_fetches_total\{[^}]*tenant="acme"[^}]*\} 1/, 'the exchange is counted with its tenant');
});

t.test('the exchange keeps the client authentication method; tenantTokenUrl may be given', async (t) => {
  const emu = await emulator(t);
  const raw = mspConfig(emu, [route('/acme', emu, { tenant: 'acme' })], {
    tokenUrl: emu.tokenUrl,
    authMethod: 'client_secret_basic',
    tenantTokenUrl: `${emu.url}/authorization/v2/oauth2/{workspaceId}/token`,
  });
  const gw = await proxy(t, raw);
  t.equal((await call(client(t), `${gw.url}/acme/echo/1`)).status, 200);
  t.strictSame(tokenJournal(emu), [
    ['/as/token.oauth2', CLIENT_CREDENTIALS, 200],
    [workspacePath(ACME_ID), TOKEN_EXCHANGE, 200],
  ]);
  t.same(emu.tokenRequests.map((r) => r.authMethod), ['client_secret_basic', 'client_secret_basic']);
  t.equal(lastClaims(emu).hpe_organization_id, ACME_ID);
});

t.test('cold concurrent requests to a tenant route: one MSP token fetch and one exchange', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, mspConfig(emu, [route('/acme', emu, { tenant: 'acme' })]));
  const http = client(t);
  emu.setTokenFault({ kind: 'delay', ms: 200, times: 1 });
  const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => call(http, `${gw.url}/acme/echo/${i}`)));
  t.same(new Set(answers.map((a) => a.status)), new Set([200]));
  t.strictSame(tokenJournal(emu), [
    [workspacePath(MSP_ID), CLIENT_CREDENTIALS, 200],
    [workspacePath(ACME_ID), TOKEN_EXCHANGE, 200],
  ]);
  t.equal(new Set(emu.apiRequests.map((r) => r.headers.authorization)).size, 1, 'all carried the same tenant token');
  t.equal(lastClaims(emu).hpe_organization_id, ACME_ID);
});

t.test('X-GreenLake-Workspace picks a tenant, by name or workspace ID, where the route allows it', async (t) => {
  const emu = await emulator(t);
  // Configured as users copy them (hyphens, upper case): sent to the token endpoint as GreenLake spells them.
  const hyphenated = [
    { name: 'acme', workspaceId: uuidOf(ACME_ID).toUpperCase() },
    { name: 'beta', workspaceId: uuidOf(BETA_ID) },
  ];
  const gw = await proxy(t, mspConfig(emu, [route('/pick', emu, { tenantHeader: true })], { tenants: hyphenated }));
  const http = client(t);

  t.equal((await call(http, `${gw.url}/pick/echo/a`, { headers: { [HEADER]: 'beta' } })).status, 200);
  t.equal(lastClaims(emu).hpe_organization_id, BETA_ID, 'by name');
  t.equal((await call(http, `${gw.url}/pick/echo/b`, { headers: { [HEADER]: ACME_ID.toUpperCase() } })).status, 200);
  t.equal(lastClaims(emu).hpe_organization_id, ACME_ID, 'by workspace ID, in any case');
  t.equal((await call(http, `${gw.url}/pick/echo/b2`, { headers: { [HEADER]: uuidOf(BETA_ID).toUpperCase() } })).status, 200);
  t.equal(lastClaims(emu).hpe_organization_id, BETA_ID, 'by workspace ID written with hyphens');
  t.equal((await call(http, `${gw.url}/pick/echo/c`)).status, 200);
  t.equal(lastClaims(emu).hpe_organization_id, MSP_ID, 'without the header: the MSP workspace');
  t.equal((await call(http, `${gw.url}/pick/echo/d`, { headers: { [HEADER]: 'acme' } })).status, 200);
  t.equal(lastClaims(emu).hpe_organization_id, ACME_ID);

  t.strictSame(tokenJournal(emu), [
    [workspacePath(MSP_ID), CLIENT_CREDENTIALS, 200],
    [workspacePath(BETA_ID), TOKEN_EXCHANGE, 200],
    [workspacePath(ACME_ID), TOKEN_EXCHANGE, 200],
  ], 'one exchange per tenant, each on the one MSP token');
  t.equal(emu.apiRequests.length, 5);
  t.ok(emu.apiRequests.every((r) => r.headers['x-greenlake-workspace'] === undefined), 'the header is never forwarded');
  const tenants = (await tokenStatuses(http, gw.url)).map((k) => k.tenant?.name ?? null);
  t.same(tenants.sort(), ['acme', 'beta', null], 'status lists a token per tenant the route can use');
});

t.test('X-GreenLake-Workspace is refused where not allowed, and for unknown tenants', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(
    t,
    mspConfig(emu, [route('/msp', emu), route('/acme', emu, { tenant: 'acme' }), route('/pick', emu, { tenantHeader: true })]),
  );
  const http = client(t);
  const withHeader = (path: string, value: string): Promise<Answer> => call(http, `${gw.url}${path}`, { headers: { [HEADER]: value } });

  const notAllowed = /route \/msp does not let callers pick a workspace/;
  assertGreenLakeError(t, await withHeader('/msp/echo/1', 'acme'), 400, 'GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED', notAllowed);
  assertGreenLakeError(t, await withHeader('/msp/echo/1', ''), 400, 'GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED', notAllowed);
  assertGreenLakeError(
    t,
    await withHeader('/acme/echo/1', 'acme'),
    400,
    'GREENLAKE_PROXY_TENANT_HEADER_NOT_ALLOWED',
    /route \/acme does not let callers pick/,
  );
  assertGreenLakeError(t, await withHeader('/pick/echo/1', 'nobody'), 403, 'GREENLAKE_PROXY_TENANT_UNKNOWN', /client msp has no tenant named "nobody"/);
  assertGreenLakeError(t, await withHeader('/pick/echo/1', 'abcdef0123456789abcdef0123456789'), 403, 'GREENLAKE_PROXY_TENANT_UNKNOWN', /no tenant/);
  assertGreenLakeError(t, await withHeader('/pick/echo/1', MSP_ID), 403, 'GREENLAKE_PROXY_TENANT_UNKNOWN', /no tenant/);
  assertGreenLakeError(t, await withHeader('/pick/echo/1', 'acme, beta'), 400, 'GREENLAKE_PROXY_BAD_REQUEST', /must name one tenant/);
  assertGreenLakeError(t, await withHeader('/pick/echo/1', ' '), 400, 'GREENLAKE_PROXY_BAD_REQUEST', /must name one tenant/);
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');
  t.equal(emu.tokenRequests.length, 0, 'no token was fetched for a refused request');
});

t.test('a revoked tenant token: the 401 is replayed with a new exchange (after a new MSP token)', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, mspConfig(emu, [route('/acme', emu, { tenant: 'acme' })]));
  const http = client(t);
  t.equal((await call(http, `${gw.url}/acme/echo/1`)).status, 200);
  const before = emu.apiRequests.at(-1)?.headers.authorization;
  emu.revokeAllTokens(); // the MSP token and the tenant token alike
  emu.resetJournal();

  const body = JSON.stringify({ name: 'replayed' });
  const res = await call(http, `${gw.url}/acme/echo/2`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  t.equal(res.status, 200, 'the caller never saw the 401');
  t.same(emu.apiRequests.map((r) => r.status), [401, 200], 'sent, refused, replayed once');
  t.strictSame(tokenJournal(emu), [
    [workspacePath(ACME_ID), TOKEN_EXCHANGE, 400], // the cached MSP token is revoked too: the exchange refuses it
    [workspacePath(MSP_ID), CLIENT_CREDENTIALS, 200], // so it is dropped and fetched again, once
    [workspacePath(ACME_ID), TOKEN_EXCHANGE, 200],
  ]);
  const after = emu.apiRequests.at(-1)?.headers.authorization;
  t.not(after, before, 'the replay carried a new token');
  t.equal(lastClaims(emu).hpe_organization_id, ACME_ID, 'for the tenant');
  t.equal(emu.apiRequests.at(-1)?.bodyBytes, Buffer.byteLength(body), 'with the whole body');
});

t.test('no MSP token: the tenant request fails with the MSP error, and no exchange is tried', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(t, {
    ...mspConfig(emu, [route('/acme', emu, { tenant: 'acme' })], { clientSecret: 'wrong-secret-value-123' }),
    tokens: { maxAttempts: 1 },
  });
  const http = client(t);
  const res = await call(http, `${gw.url}/acme/echo/1`);
  assertGreenLakeError(t, res, 502, 'GREENLAKE_PROXY_TOKEN_REJECTED', /MSP token of client msp .*invalid_client/);
  t.notOk(res.text.includes('wrong-secret-value-123'), 'the secret is not in the error');
  t.strictSame(tokenJournal(emu), [[workspacePath(MSP_ID), CLIENT_CREDENTIALS, 401]]);
  t.equal(emu.apiRequests.length, 0);
  const acme = (await tokenStatuses(http, gw.url)).find((k) => k.tenant?.name === 'acme');
  t.match(acme, { state: 'failing', lastError: { code: 'GREENLAKE_PROXY_TOKEN_REJECTED', message: /MSP token/ } });
});

// -------------------------------------------------------------------------------------------------

t.test('configuration of tenants', async (t) => {
  const HPE_WORKSPACE_URL = `https://global.api.greenlake.hpe.com/authorization/v2/oauth2/${MSP_ID}/token`;
  const secret = 'Zq7-very-secret-VALUE';
  const msp = (extra: Raw = {}): Raw => ({
    name: 'msp',
    clientId: 'id',
    clientSecret: secret,
    tenants: [{ name: 'acme', workspaceId: ACME_ID.toUpperCase() }],
    ...extra,
  });
  const parse = (clients: Raw[], routes: Raw[] = [{ prefix: '/glp/global' }]) => parseConfig({ clients, routes }, {}, 'test');
  const problemsOf = (clients: Raw[], routes?: Raw[]): readonly string[] => {
    try {
      parse(clients, routes);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  t.test('accepted and resolved', async (t) => {
    const config = parse(
      [msp({ tokenUrl: HPE_WORKSPACE_URL }), msp({ name: 'classic' }), msp({ name: 'own', tenantTokenUrl: 'https://sso.example.com/t/{workspaceId}/token' })],
      [
        { prefix: '/glp/global', tenant: 'acme' },
        { prefix: '/any', upstream: 'https://global.api.greenlake.hpe.com', tenantHeader: true },
        { prefix: '/dscc/us1', client: 'classic' },
      ],
    );
    const [workspace, classic, own] = config.clients;
    t.equal(workspace?.tokenUrl, HPE_WORKSPACE_URL, 'a workspace token URL is a valid tokenUrl');
    t.strictSame(workspace?.tenants, [{ name: 'acme', workspaceId: ACME_ID }], 'workspace IDs are kept in lower case');
    t.equal(
      workspace?.tenantTokenUrl,
      'https://global.api.greenlake.hpe.com/authorization/v2/oauth2/{workspaceId}/token',
      'default: the workspace tokenUrl with the tenant ID',
    );
    t.equal(classic?.tenantTokenUrl, DEFAULT_TENANT_TOKEN_URL, 'default for a classic tokenUrl: the global workspace endpoint');
    t.equal(own?.tenantTokenUrl, 'https://sso.example.com/t/{workspaceId}/token');
    t.strictSame(
      config.routes.map((r) => [r.client, r.tenant, r.tenantHeader]),
      [
        ['msp', 'acme', false],
        ['msp', undefined, true],
        ['classic', undefined, false],
      ],
    );
    const plain = parseConfig({ clients: [{ name: 'c', clientId: 'id', clientSecret: secret }] }, {}, 'test');
    t.strictSame([plain.clients[0]?.tenants, plain.clients[0]?.tenantTokenUrl], [[], undefined], 'no tenants: none, and no tenant token URL');
  });

  t.test('workspace IDs are hex digits; hyphens (UUID style) are removed, not refused', async (t) => {
    const config = parseConfig(
      { clients: [{ name: 'c', clientId: 'id', clientSecret: secret, tokenUrl: `https://x.example/authorization/v2/oauth2/${uuidOf(MSP_ID).toUpperCase()}/token`, tenants: [{ name: 'acme', workspaceId: uuidOf(ACME_ID).toUpperCase() }] }] },
      {},
      'test',
    );
    t.equal(config.clients[0]?.tenants[0]?.workspaceId, ACME_ID, 'tenant ID: hyphens removed, lower case');
    t.equal(config.clients[0]?.tokenUrl, `https://x.example/authorization/v2/oauth2/${MSP_ID}/token`, 'the workspace ID in a token URL too');
    t.strictSame(problemsOf([msp({ tenants: [{ name: 'acme', workspaceId: 'acme-corp' }, { name: 'beta', workspaceId: 'xyz' }, { name: 'gamma', workspaceId: '-0123' }] })]), [
      'clients[0].tenants[0].workspaceId: must be a workspace ID: 1 to 64 hex digits (0-9, a-f), hyphens between groups allowed',
      'clients[0].tenants[1].workspaceId: must be a workspace ID: 1 to 64 hex digits (0-9, a-f), hyphens between groups allowed',
      'clients[0].tenants[2].workspaceId: must be a workspace ID: 1 to 64 hex digits (0-9, a-f), hyphens between groups allowed',
    ]);
    t.strictSame(problemsOf([msp({ tenants: [{ name: 'acme', workspaceId: ACME_ID }, { name: 'again', workspaceId: uuidOf(ACME_ID) }] })]), [
      'clients[0].tenants[1].workspaceId: duplicate: clients[0].tenants[0] has the same workspace ID',
    ], 'the same workspace with and without hyphens is a duplicate');
    t.strictSame(problemsOf([msp({ tenants: [{ name: 'acme' }] })]), ['clients[0].tenants[0].workspaceId: missing']);
    t.strictSame(problemsOf([msp({ tenants: [{ name: 'a b', workspaceId: ACME_ID, extra: 1 }] })]), [
      'clients[0].tenants[0].name: may contain only A-Z a-z 0-9 . _ -',
      'clients[0].tenants[0].extra: unknown key',
    ]);
  });

  t.test('tenant names and workspace IDs are unique, and never each other', async (t) => {
    const tenants = [
      { name: 'acme', workspaceId: ACME_ID },
      { name: 'acme', workspaceId: BETA_ID },
      { name: 'other', workspaceId: ACME_ID.toUpperCase() },
      { name: BETA_ID, workspaceId: MSP_ID },
    ];
    t.strictSame(problemsOf([msp({ tenants })]), [
      'clients[0].tenants[1].name: duplicate: clients[0].tenants[0] has the same name',
      'clients[0].tenants[2].workspaceId: duplicate: clients[0].tenants[0] has the same workspace ID',
      'clients[0].tenants[3].name: is the workspace ID of clients[0].tenants[1]: X-GreenLake-Workspace could not tell them apart',
    ]);
  });

  t.test('routes name tenants their client has', async (t) => {
    const plain = { name: 'plain', clientId: 'id', clientSecret: secret };
    t.strictSame(
      problemsOf(
        [msp(), plain],
        [
          { prefix: '/glp/global', tenant: 'nobody' },
          { prefix: '/dscc/us1', client: 'plain', tenant: 'acme' },
          { prefix: '/dscc/eu1', client: 'plain', tenantHeader: true },
          { prefix: '/dscc/jp1', tenantHeader: 'yes' },
          { prefix: '/com/us-west', client: 'ghost', tenant: 'acme' },
        ],
      ),
      [
        'routes[3].tenantHeader: expected true or false, got a string',
        'routes[4].client: no client named "ghost"',
        'routes[0].tenant: client "msp" has no tenant named "nobody"',
        'routes[1].tenant: client "plain" declares no tenants (clients[].tenants)',
        'routes[2].tenantHeader: client "plain" declares no tenants (clients[].tenants)',
      ],
    );
    t.strictSame(problemsOf([plain], [{ prefix: '/glp/global', tenantHeader: true }]), [
      'routes[0].tenantHeader: client "plain" declares no tenants (clients[].tenants)',
    ], 'the default client counts when a route names none');
  });

  t.test('tenantTokenUrl: a URL template with {workspaceId}, only with tenants', async (t) => {
    const withUrl = (tenantTokenUrl: string) => problemsOf([msp({ tenantTokenUrl })]);
    t.strictSame(withUrl('https://sso.example.com/token'), [
      "clients[0].tenantTokenUrl: must contain {workspaceId} where the tenant's workspace ID goes",
    ]);
    t.strictSame(withUrl('https://sso.example.com/{tenant}/{workspaceId}/token'), [
      'clients[0].tenantTokenUrl: {workspaceId} is the only placeholder it may contain',
    ]);
    t.strictSame(withUrl('http://sso.example.com/{workspaceId}/token'), [
      'clients[0].tenantTokenUrl: must be https (http only on loopback addresses)',
    ]);
    t.strictSame(withUrl('https://sso.example.com/{workspaceId}/token?x=1'), ['clients[0].tenantTokenUrl: must not have a query or fragment']);
    t.strictSame(problemsOf([msp({ tenants: [], tenantTokenUrl: 'https://sso.example.com/{workspaceId}/token' })]), [
      'clients[0].tenantTokenUrl: has no use without tenants',
    ]);
  });
});
