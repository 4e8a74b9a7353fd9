import t from 'tap';
import { ConfigError, parseConfig } from '../src/config/index.ts';
import { hashKey } from '../src/inbound/index.ts';
import { standInSigningKey, StandIns } from '../src/inbound/stand-ins.ts';
import type { Principal } from '../src/inbound/principal.ts';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';
import { DEMO_CLIENT } from '../src/emulator/index.ts';

const SECRET = 'Zq7-very-secret-VALUE-d41d8cd98f00b204';
const KEY_HASH = hashKey('glproxy_some-key');

function problemsOf(inbound: Record<string, unknown>): readonly string[] {
  try {
    parseConfig({ clients: [{ name: 'team', clientId: 'the-id', clientSecret: SECRET }], inbound }, {}, 'test');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const reader: Principal = { name: 'key:reader', clients: new Set(['team']), routes: undefined, methods: new Set(['GET']), admin: false };

const KEY = Buffer.alloc(32, 7);

t.test('stand-ins expire: accepted while alive, refused after their lifetime', async (t) => {
  let now = 1_000_000;
  const standIns = new StandIns(KEY, () => now);
  const issued = standIns.issue(reader, 900);
  t.equal(issued.expiresIn, 900);
  const found = standIns.find(issued.token);
  t.equal(found?.name, 'key:reader', 'bound to the principal it was issued to');
  t.same([...(found?.clients ?? [])], ['team']);
  t.equal(found?.routes, undefined);
  t.same([...(found?.methods ?? [])], ['GET'], 'with its rights, no more');
  now += 899_999;
  t.ok(standIns.find(issued.token), 'alive until the last millisecond');
  now += 1;
  t.equal(standIns.find(issued.token), undefined, 'expired');
});

t.test('a stand-in never outlives the JWT it was issued for', async (t) => {
  const now = 5_000_000;
  const standIns = new StandIns(KEY, () => now);
  const issued = standIns.issue({ ...reader, expiresAt: now + 120_000 }, 900);
  t.equal(issued.expiresIn, 120);
});

t.test('a stand-in is refused when forged, tampered with, signed by another proxy or for another inbound configuration', async (t) => {
  const standIns = new StandIns(KEY);
  const { token } = standIns.issue(reader, 900);
  const [body, mac] = token.slice('glproxy_standin_'.length).split('.') as [string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as Record<string, unknown>;
  const widened = Buffer.from(JSON.stringify({ ...claims, methods: null })).toString('base64url');
  t.equal(standIns.find(`glproxy_standin_${widened}.${mac}`), undefined, 'rights widened in the body');
  t.equal(standIns.find(`${token}x`), undefined, 'a changed signature');
  t.equal(standIns.find(`glproxy_standin_${body}`), undefined, 'no signature');
  t.equal(standIns.find(`${token}.extra`), undefined);
  t.equal(new StandIns(Buffer.alloc(32, 8)).find(token), undefined, 'another signing key');
  const inbound = parseConfig({ clients: [{ name: 'team', clientId: 'the-id', clientSecret: SECRET }] }, {}, 'test').inbound;
  const shared = Buffer.alloc(32, 9).toString('base64');
  const a = standInSigningKey(inbound, shared);
  t.same(standInSigningKey(inbound, shared), a, 'replicas sharing the secret and the configuration share the key');
  t.notSame(standInSigningKey({ ...inbound, apiKeys: [{ name: 'k', keyHash: KEY_HASH, clients: ['team'], routes: undefined, methods: undefined, admin: false, readOnly: false, allow: undefined }] }, shared), a, 'a changed apiKeys section voids them');
  t.notSame(standInSigningKey(inbound, undefined), standInSigningKey(inbound, undefined), 'without a shared secret, random per process');
});

t.test('without a principal (no inbound authentication) a stand-in is random and proves nothing', async (t) => {
  const standIns = new StandIns(KEY);
  const issued = standIns.issue(undefined, 900);
  t.match(issued.token, /^glproxy_standin_[\w-]{43}$/);
  t.equal(standIns.find(issued.token), undefined);
});

t.test('inbound.localTokens: defaults, and clear errors that never quote a value', async (t) => {
  t.same(problemsOf({}), []);
  t.same(problemsOf({ localTokens: { enabled: false, lifetimeSeconds: 3600 } }), []);
  t.same(problemsOf({ localTokens: { clients: [{ clientId: 'postman', clientSecretHash: KEY_HASH }] } }), []);
  t.match(problemsOf({ localTokens: { lifetimeSeconds: 30 } }), [/inbound\.localTokens\.lifetimeSeconds: must be an integer from 60 to 86400/]);
  t.match(problemsOf({ localTokens: { clients: [{ clientId: 'postman', clientSecretHash: SECRET }] } }), [/clientSecretHash: must be sha256:/]);
  t.notMatch(problemsOf({ localTokens: { clients: [{ clientId: 'postman', clientSecretHash: SECRET }] } }).join('\n'), SECRET, 'the value is never quoted');
  t.match(problemsOf({ localTokens: { clients: [{ clientId: 'postman', clientSecret: SECRET }] } }), [/clientSecretHash: missing/, /clientSecret: unknown key/]);
  t.match(problemsOf({ localTokens: { clients: [] } }), [/inbound\.localTokens\.clients: must not be empty/]);
  t.match(problemsOf({ localTokens: { enabled: false, clients: [{ clientId: 'a', clientSecretHash: KEY_HASH }] } }), [/inbound\.localTokens\.clients: has no effect with enabled: false/]);
  t.match(
    problemsOf({ localTokens: { clients: [{ clientId: 'a', clientSecretHash: KEY_HASH }, { clientId: 'a', clientSecretHash: KEY_HASH }] } }),
    [/inbound\.localTokens\.clients\[1\]\.clientId: duplicates inbound\.localTokens\.clients\[0\]\.clientId/],
  );
  t.match(
    problemsOf({ apiKeys: [{ name: 'k', keyHash: KEY_HASH, clients: ['team'] }], localTokens: { clients: [{ clientId: 'a', clientSecretHash: KEY_HASH }] } }),
    [/inbound\.localTokens\.clients: not with inbound\.apiKeys or inbound\.jwt/],
    'with inbound authentication a stand-in must be bound to a principal',
  );
});

t.test("with inbound JWTs, a JWT as client_secret gets a stand-in that lives no longer than the JWT", async (t) => {
  const emu = await emulator(t);
  const idp = await emulator(t, { tokenLifetimeSeconds: 120 });
  const jwt = { issuer: idp.url, audience: 'external_api', jwksUrl: idp.jwksUrl, claim: 'client_id', clients: { [DEMO_CLIENT.clientId]: ['team'] } };
  const gw = await proxy(t, configFor(emu, { inbound: { jwt } }));
  const http = client(t);
  const idpAnswer = await fetch(idp.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret }),
  });
  const token = ((await idpAnswer.json()) as { access_token: string }).access_token;
  const answer = await call(http, `${gw.url}/-/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'terraform', client_secret: token }).toString(),
  });
  t.equal(answer.status, 200);
  const body = answer.json<{ access_token: string; expires_in: number }>();
  t.ok(body.expires_in > 0 && body.expires_in <= 120, 'capped by the JWT expiry, not the 900 s default');
  const devices = await call(http, `${gw.url}/glp/global/devices/v1/devices`, { headers: { authorization: `Bearer ${body.access_token}` } });
  t.equal(devices.status, 200);
});
