/** Contract: the token answer and access-token claims of both GreenLake issuers. */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import t from 'tap';
import { call } from '../helpers/index.ts';
import { clientCredentialsForm, contractSession, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'tokens');

const issuers = [
  { name: 'the workspace issuer', url: () => session.emu.workspaceTokenUrl(String(session.claims['platform_customer_id'])), claims: 'tokens#workspaceClaims', lifetime: 900 },
  { name: 'the classic endpoint', url: () => session.emu.tokenUrl, claims: 'tokens#classicClaims', lifetime: 7199 },
] as const;

for (const issuer of issuers) {
  t.test(`a token from ${issuer.name} is an RS256 JWT with HPE's claims, living ${issuer.lifetime} s`, async (t) => {
    const answer = await call(session.agent, issuer.url(), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: clientCredentialsForm(),
    });
    t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
    const token = String(answer.json()['access_token']);
    t.same(schemaErrors('tokens#jwtHeader', decodeProtectedHeader(token)), [], 'matches tokens#jwtHeader');
    const claims = decodeJwt(token);
    t.same(schemaErrors(issuer.claims, claims), [], `the claims match ${issuer.claims}`);
    t.equal(Number(claims.exp) - Number(claims.iat), issuer.lifetime, 'exp - iat is the documented lifetime');
    const jwks = (await call(session.agent, session.emu.jwksUrl)).json<JSONWebKeySet>();
    await t.resolves(jwtVerify(token, createLocalJWKSet(jwks)), "the signature verifies with the emulator's JWKS");
  });
}

t.test('a wrong secret answers 401 invalid_client in OAuth\'s error shape', async (t) => {
  const form = new URLSearchParams(clientCredentialsForm());
  form.set('client_secret', 'not-the-secret');
  const answer = await call(session.agent, session.emu.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  t.equal(answer.status, 401, 'answers 401', { body: answer.text.slice(0, 300) });
  const body = answer.json();
  t.same(schemaErrors('tokens#oauthError', body), [], 'matches tokens#oauthError');
  t.equal(body['error'], 'invalid_client');
});
