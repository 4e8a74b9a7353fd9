import { decodeJwt, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { DEMO_CLIENT, type Emulator } from '../../src/emulator/index.ts';
import { hashKey } from '../../src/inbound/index.ts';
import { assertNoCredentialsIn, call, client, configFor, emulator, proxy, type Tap } from '../helpers/index.ts';
import { freePort } from './support.ts';

const VOLUMES = '/dscc/us1/api/v1/volumes';

/** The team's identity provider is an emulator: RS256 tokens, a JWKS, iss = its origin, aud = external_api. */
function jwtConfig(idp: Emulator, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { issuer: idp.url, audience: 'external_api', jwksUrl: idp.jwksUrl, claim: 'client_id', clients: { [DEMO_CLIENT.clientId]: ['team'] }, ...overrides };
}

async function idpToken(idp: Emulator): Promise<string> {
  const res = await fetch(idp.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

async function setup(t: Tap, jwt: (idp: Emulator) => Record<string, unknown> = (idp) => jwtConfig(idp)) {
  const emu = await emulator(t);
  const idp = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { jwt: jwt(idp) } }));
  return { emu, idp, gw, http: client(t) };
}

t.test('a JWT from the identity provider is accepted, mapped to its clients, and never forwarded', async (t) => {
  const { emu, idp, gw, http } = await setup(t);
  const token = await idpToken(idp);
  const res = await call(http, `${gw.url}/glp/global/echo/headers`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 200);
  const forwarded = emu.apiRequests[0]?.headers.authorization;
  t.match(forwarded, /^Bearer eyJ/);
  t.not(forwarded, `Bearer ${token}`, 'the upstream got the client token, not the caller JWT');
  t.equal(emu.apiRequests[0]?.tokenClientId, DEMO_CLIENT.clientId);
  const line = gw.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l['msg'] === 'request');
  t.equal(line?.['who'], `jwt:${DEMO_CLIENT.sub}`, 'the audit log names the JWT subject');
  t.equal((await call(http, `${gw.url}/-/status`, { headers: { authorization: `Bearer ${token}` } })).status, 403, 'client access is no admin scope');
  assertNoCredentialsIn(t, gw.logs, [token]);
});

t.test('admin endpoints under any JWT: only a claim value named in jwt.adminClaimValues opens /-/status, /-/metrics and the status page', async (t) => {
  const { idp, gw, http } = await setup(t, (idp) => jwtConfig(idp, { adminClaimValues: [DEMO_CLIENT.clientId] }));
  const token = await idpToken(idp);
  for (const path of ['/-/status', '/-/metrics', '/-/']) {
    t.equal((await call(http, gw.url + path, { headers: { authorization: `Bearer ${token}` } })).status, 200, `${path} with the admin scope`);
  }
  const others = await setup(t, (idp) => jwtConfig(idp, { adminClaimValues: ['platform-ops'] }));
  const other = await idpToken(others.idp);
  const refused = await call(others.http, `${others.gw.url}/-/metrics`, { headers: { authorization: `Bearer ${other}` } });
  t.equal(refused.status, 403, 'a claim value not named is refused');
  t.equal(refused.json().errorCode, 'GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED');
});

t.test('forged, foreign, unsigned or misplaced tokens get 401 and nothing is forwarded', async (t) => {
  const { emu, idp, gw, http } = await setup(t);
  const genuine = await idpToken(idp);
  const claims = decodeJwt(genuine);
  const kid = (JSON.parse(Buffer.from(genuine.split('.')[0] ?? '', 'base64url').toString()) as { kid: string }).kid;
  const { privateKey } = await generateKeyPair('RS256');
  const forged = await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  const unsigned = new UnsecuredJWT(claims).encode();
  const hmacKey = new TextEncoder().encode(JSON.stringify(await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey)));
  const hs256 = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid }).sign(hmacKey);
  const otherIdp = await emulator(t);
  const foreign = await idpToken(otherIdp);
  const [header, , signature] = genuine.split('.');
  const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, client_id: 'someone-else' })).toString('base64url')}.${signature}`;

  for (const [what, headers] of [
    ['a signature by another key under the same kid', { authorization: `Bearer ${forged}` }],
    ['alg none', { authorization: `Bearer ${unsigned}` }],
    ['HS256 keyed with the public key', { authorization: `Bearer ${hs256}` }],
    ['another issuer', { authorization: `Bearer ${foreign}` }],
    ['tampered claims', { authorization: `Bearer ${tampered}` }],
    ['a JWT in X-API-Key', { 'x-api-key': genuine }],
  ] as const) {
    const res = await call(http, gw.url + VOLUMES, { headers });
    t.equal(res.status, 401, `${what}: 401`);
    t.equal(res.json().errorCode, 'GREENLAKE_PROXY_UNAUTHENTICATED');
  }
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');
});

t.test('a JWT whose signed exp has passed gets 401; the same claims with a later exp pass (no sleep past a lifetime)', async (t) => {
  // An identity provider of our own, to sign any exp: its JWKS served on loopback.
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwks = createServer(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => jwks.close(() => resolve())));
  const issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  const emu = await emulator(t);
  const gw = await proxy(t, configFor(emu, { inbound: { jwt: { issuer, audience: 'external_api', jwksUrl: `${issuer}/jwks`, claim: 'client_id', clients: { tool: ['team'] } } } }));
  const http = client(t);
  const now = Math.floor(Date.now() / 1000);
  const signed = (exp: number): Promise<string> =>
    new SignJWT({ client_id: 'tool', sub: 'tool' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(issuer).setAudience('external_api').setIssuedAt(now - 120).setExpirationTime(exp).sign(privateKey);
  const expired = await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${await signed(now - 60)}` } });
  t.equal(expired.status, 401, 'exp a minute ago: 401');
  t.equal(expired.json().errorCode, 'GREENLAKE_PROXY_UNAUTHENTICATED');
  t.equal(emu.apiRequests.length, 0, 'nothing was forwarded');
  t.equal((await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${await signed(now + 600)}` } })).status, 200, 'the same claims, exp ahead: accepted');
  t.equal(emu.apiRequests.length, 1);
});

t.test('issuer and audience are enforced', async (t) => {
  for (const overrides of [{ audience: 'another-audience' }, { issuer: 'https://idp.example.com' }]) {
    const { emu, idp, gw, http } = await setup(t, (idp) => jwtConfig(idp, overrides));
    const res = await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${await idpToken(idp)}` } });
    t.equal(res.status, 401, `${JSON.stringify(overrides)}: 401`);
    t.equal(emu.apiRequests.length, 0);
  }
});

t.test('a valid token whose claim maps to no client gets 403 on every route, and on /-/status without the admin scope', async (t) => {
  const { emu, idp, gw, http } = await setup(t, (idp) => jwtConfig(idp, { clients: { 'storage-admins': ['team'] } }));
  const token = await idpToken(idp);
  const res = await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${token}` } });
  t.equal(res.status, 403);
  t.equal(res.json().errorCode, 'GREENLAKE_PROXY_FORBIDDEN');
  t.equal(emu.apiRequests.length, 0);
  const status = await call(http, `${gw.url}/-/status`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(status.status, 403);
  t.equal(status.json().errorCode, 'GREENLAKE_PROXY_ADMIN_SCOPE_REQUIRED');
});

t.test('an unreachable JWKS is 503, not a pass; API keys keep working beside JWTs', async (t) => {
  const deadPort = await freePort();
  const key = 'glproxy_jwt-side-key-0123456789abcdefghij';
  const emu = await emulator(t);
  const idp = await emulator(t);
  const gw = await proxy(
    t,
    configFor(emu, {
      inbound: {
        jwt: jwtConfig(idp, { jwksUrl: `http://127.0.0.1:${deadPort}/.well-known/jwks.json` }),
        apiKeys: [{ name: 'ci', keyHash: hashKey(key), clients: ['team'] }],
      },
    }),
  );
  const http = client(t);
  const res = await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${await idpToken(idp)}` } });
  t.equal(res.status, 503);
  t.equal(res.json().errorCode, 'GREENLAKE_PROXY_AUTH_UNAVAILABLE');
  t.equal(emu.apiRequests.length, 0);
  t.equal((await call(http, gw.url + VOLUMES, { headers: { authorization: `Bearer ${key}` } })).status, 200, 'a key does not need the JWKS');
  t.equal(emu.apiRequests.length, 1);
});
