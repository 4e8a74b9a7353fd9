/**
 * A local stand-in for HPE GreenLake: token endpoint, JWKS, sample Compute Ops
 * Management / Data Services / GreenLake platform APIs, plus test helpers and fault
 * injection. Used by the tests, `npm run demo` and the benchmarks.
 *
 * Tokens' `iss` is the emulator's own origin, standing in for https://sso.common.cloud.hpe.com.
 * /echo, /download, /upload, /redirect, /status and /_emulator/* are emulator-only.
 */
import type { AddressInfo } from 'node:net';
import { createApp, JWKS_PATH } from './app.ts';
import type { EmulatorContext } from './context.ts';
import { applySettings } from './control.ts';
import { FaultSwitch } from './faults.ts';
import { Journal } from './journal.ts';
import { createSigningKeys } from './keys.ts';
import { FixedWindowRateLimiter } from './rate-limit.ts';
import { checkApiFault, checkRateLimit, checkTokenFault, checkTokenLifetime } from './settings.ts';
import { patternSha256 } from './streams.ts';
import { TokenIssuer } from './token-issuer.ts';
import { CLASSIC_TOKEN_PATH, workspaceTokenPath } from './token-endpoint.ts';
import type { ApiFault, Emulator, EmulatorClient, EmulatorOptions, TokenFault } from './types.ts';

export type {
  ApiFault,
  ApiRequestRecord,
  Emulator,
  EmulatorClient,
  EmulatorOptions,
  RateLimit,
  TokenFault,
  TokenRequestRecord,
} from './types.ts';
export { SAMPLE_SERVER_ID } from './data.ts';

export const DEMO_CLIENT: EmulatorClient = Object.freeze({
  clientId: 'demo-client',
  clientSecret: 'demo-secret-5f2c8e1a9b7d4c3e8f6a0b1d2c3e4f5a',
  sub: 'demo.user@example.com',
});

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 7199;

/** sha256 (hex) of what GET /download?bytes=N sends: byte i is i mod 251. */
export function downloadSha256(bytes: number): string {
  return patternSha256(bytes);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clients = clientMap(options.clients ?? [DEMO_CLIENT]);
  const startLifetime = checkTokenLifetime(options.tokenLifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS);
  const keys = await createSigningKeys();
  const closing = new AbortController();
  let origin = '';
  const ctx: EmulatorContext = {
    clients,
    keys,
    issuer: new TokenIssuer(keys, startLifetime),
    journal: new Journal(),
    tokenFault: new FaultSwitch<TokenFault>(),
    apiFault: new FaultSwitch<ApiFault>(),
    rateLimiter: new FixedWindowRateLimiter(),
    closing: closing.signal,
    origin: () => origin,
    resetToDefaults: () => {
      applySettings(ctx, { token: null, api: null, rateLimit: null, tokenLifetimeSeconds: startLifetime });
      ctx.journal.reset();
    },
  };
  const app = createApp(options, ctx);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  origin = originOf(app.server.address() as AddressInfo, options.tls !== undefined);

  let closed: Promise<void> | undefined;
  return {
    url: origin,
    tokenUrl: origin + CLASSIC_TOKEN_PATH,
    jwksUrl: origin + JWKS_PATH,
    workspaceTokenUrl: (workspaceId) => origin + workspaceTokenPath(workspaceId),
    get tokenRequests() {
      return ctx.journal.tokenRequests;
    },
    get apiRequests() {
      return ctx.journal.apiRequests;
    },
    setTokenFault: (fault) => ctx.tokenFault.set(fault === undefined ? undefined : checkTokenFault(fault)),
    setApiFault: (fault) => ctx.apiFault.set(fault === undefined ? undefined : checkApiFault(fault)),
    setRateLimit: (limit) => ctx.rateLimiter.set(limit === undefined ? undefined : checkRateLimit(limit)),
    setTokenLifetime: (seconds) => {
      ctx.issuer.lifetimeSeconds = checkTokenLifetime(seconds);
    },
    revokeAllTokens: () => ctx.issuer.revokeAll(),
    resetJournal: () => ctx.journal.reset(),
    close: () => {
      // Aborting first ends delays and hangs; fastify then destroys every socket.
      closing.abort();
      closed ??= app.close();
      return closed;
    },
  };
}

function clientMap(clients: readonly EmulatorClient[]): Map<string, EmulatorClient> {
  const map = new Map<string, EmulatorClient>();
  for (const client of clients) {
    if (map.has(client.clientId)) throw new Error(`Duplicate emulator client ${client.clientId}`);
    map.set(client.clientId, { ...client });
  }
  return map;
}

/** A URL origin for the bound address; wildcard binds are reached through loopback. */
function originOf(address: AddressInfo, tls: boolean): string {
  const host =
    address.address === '0.0.0.0' ? '127.0.0.1'
    : address.address === '::' ? '[::1]'
    : address.family === 'IPv6' ? `[${address.address}]`
    : address.address;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}
