import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';

const fixture = (name: string): string => new URL(`./fixtures/tls/${name}`, import.meta.url).pathname;
const tls = { key: readFileSync(fixture('server.key')), cert: readFileSync(fixture('server.pem')) };

t.test('upstream and token endpoint certificates are verified', async (t) => {
  const emu = await emulator(t, { tls });
  t.match(emu.url, /^https:/);
  const untrusted = await proxy(t, configFor(emu, { tokens: { maxAttempts: 1 } }));
  const http = client(t);
  const refused = await call(http, `${untrusted.url}/dscc/us1/api/v1/volumes`);
  t.equal(refused.status, 502, 'a certificate from an unknown CA is refused');
  t.match(refused.json().message, /certificate|UNABLE_TO_VERIFY|self.signed/i);
  t.equal(emu.apiRequests.length, 0, 'nothing was sent to the untrusted upstream');

  const trusted = await proxy(t, configFor(emu, { caFile: fixture('ca.pem') }));
  const ok = await call(http, `${trusted.url}/dscc/us1/api/v1/volumes`);
  t.equal(ok.status, 200, 'with caFile the same upstream is trusted');
  t.equal(emu.apiRequests.length, 1);
});

t.test('a route to an upstream whose certificate is untrusted answers GREENLAKE_PROXY_UPSTREAM_TLS', async (t) => {
  const tlsEmu = await emulator(t, { tls });
  const plainEmu = await emulator(t);
  // Tokens come from the plain emulator; only the upstream is TLS.
  const gw = await proxy(t, configFor(plainEmu, { routes: [{ prefix: '/secure', upstream: tlsEmu.url }] }));
  const res = await call(client(t), `${gw.url}/secure/api/v1/volumes`);
  t.equal(res.status, 502);
  t.equal(res.json().errorCode, 'GREENLAKE_PROXY_UPSTREAM_TLS');
  t.equal(tlsEmu.apiRequests.length, 0);
});

t.test('NODE_EXTRA_CA_CERTS is trusted, as Node users expect', async (t) => {
  const emu = await emulator(t, { tls });
  const runToken = async (extraEnv: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> => {
    const child = spawn(process.execPath, [new URL('../src/cli/main.js', import.meta.url).pathname, 'token'], {
      env: {
        PATH: process.env.PATH ?? '',
        GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId,
        GREENLAKE_CLIENT_SECRET: DEMO_CLIENT.clientSecret,
        GREENLAKE_TOKEN_URL: emu.tokenUrl,
        ...extraEnv,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const [code] = await once(child, 'close');
    return { code: code as number, stdout, stderr };
  };
  const without = await runToken({});
  t.equal(without.code, 1, 'an https token endpoint with an unknown CA is refused');
  t.match(without.stderr, /certificate not trusted/);
  const withExtra = await runToken({ NODE_EXTRA_CA_CERTS: fixture('ca.pem') });
  t.equal(withExtra.code, 0, withExtra.stderr);
  t.match(withExtra.stdout, /^eyJ/, 'with NODE_EXTRA_CA_CERTS the token is fetched');
});
