/**
 * OAuth interop beyond GreenLake (Entra ID, Auth0, Okta, Keycloak): what the proxy sends to a
 * token endpoint, byte for byte, seen by a token endpoint of our own.
 */
import t from 'tap';
import { call, client, proxy } from './helpers/index.ts';
import { anyTokenUpstream, bearersSeenBy, configWith, tokenServer } from './helpers/oauth-servers.ts';

/** Every character that form encoding changes: `:` `%` `+` `&` and a space. */
const ODD_SECRET = 's3:cr%t+v&l ue';
/** The same, form-encoded (application/x-www-form-urlencoded), written out by hand. */
const ODD_SECRET_FORM = 's3%3Acr%25t%2Bv%26l+ue';

function basicPairOf(authorization: string | string[] | undefined): string {
  const value = String(authorization ?? '');
  if (!value.startsWith('Basic ')) throw new Error('no Basic authorization');
  return Buffer.from(value.slice(6), 'base64').toString('utf8');
}

t.test('client_secret_post with scope, audience, resource and tokenParams: the exact form the endpoint receives', async (t) => {
  const tokens = await tokenServer(t);
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(
    t,
    configWith(tokens, upstream, {
      clientSecret: ODD_SECRET,
      scope: 'api://greenlake/.default',
      audience: 'https://api.example',
      resource: 'https://res.example',
      tokenParams: { organization: 'org_1' },
    }),
  );
  t.equal((await call(client(t), `${gw.url}/api/things`)).status, 200);
  t.strictSame(bearersSeenBy(upstream), ['tok-1'], 'the upstream got the endpoint token');
  t.equal(tokens.received.length, 1);
  const sent = tokens.received[0]!;
  t.equal(sent.method, 'POST');
  t.equal(sent.path, '/oauth2/token');
  t.equal(sent.headers['content-type'], 'application/x-www-form-urlencoded');
  t.equal(sent.headers.authorization, undefined, 'no Authorization header with client_secret_post');
  t.equal(
    sent.body,
    `grant_type=client_credentials&client_id=the-client&client_secret=${ODD_SECRET_FORM}` +
      '&scope=api%3A%2F%2Fgreenlake%2F.default&audience=https%3A%2F%2Fapi.example&resource=https%3A%2F%2Fres.example&organization=org_1',
  );
});

t.test('client_secret_basic form-encodes the client ID and secret before base64 (RFC 6749 2.3.1), seen through the proxy', async (t) => {
  const tokens = await tokenServer(t);
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, { clientId: 'odd id:1', clientSecret: ODD_SECRET, authMethod: 'client_secret_basic', scope: 'openid greenlake' }));
  t.equal((await call(client(t), `${gw.url}/api/things`)).status, 200);
  const sent = tokens.received[0]!;
  t.equal(basicPairOf(sent.headers.authorization), `odd+id%3A1:${ODD_SECRET_FORM}`);
  t.equal(sent.body, 'grant_type=client_credentials&scope=openid+greenlake', 'no credentials in the body; scope after the grant');
});

t.test('client_secret_basic with basicEncoding: raw sends ID and secret as they are', async (t) => {
  const tokens = await tokenServer(t);
  const upstream = await anyTokenUpstream(t);
  const gw = await proxy(t, configWith(tokens, upstream, { clientId: 'odd id', clientSecret: ODD_SECRET, authMethod: 'client_secret_basic', basicEncoding: 'raw' }));
  t.equal((await call(client(t), `${gw.url}/api/things`)).status, 200);
  const sent = tokens.received[0]!;
  t.equal(basicPairOf(sent.headers.authorization), `odd id:${ODD_SECRET}`);
  t.equal(sent.body, 'grant_type=client_credentials');
});
