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
import { DEFAULT_JOURNAL_LIMIT, Journal } from './journal.ts';
import { createSigningKeys } from './keys.ts';
import { FixedWindowRateLimiter } from './rate-limit.ts';
import { ALL_RESOURCES, ResourceStore } from './resources/index.ts';
import { checkApiFault, checkAsyncFault, checkRateLimit, checkTokenFault, checkTokenLifetime } from './settings.ts';
import { patternSha256 } from './streams.ts';
import { TokenIssuer } from './token-issuer.ts';
import { CLASSIC_TOKEN_PATH, workspaceTokenPath } from './token-endpoint.ts';
import type { ApiFault, AsyncFault, Emulator, EmulatorClient, EmulatorOptions, TokenFault } from './types.ts';

export type {
  ApiFault,
  ApiRequestRecord,
  AsyncFault,
  JournalCounts,
  Emulator,
  EmulatorClient,
  EmulatorOptions,
  RateLimit,
  TokenFault,
  TokenRequestRecord,
} from './types.ts';
export { SAMPLE_SERVER_ID } from './resources/index.ts';

export const DEMO_CLIENT: EmulatorClient = Object.freeze({
  clientId: 'demo-client',
  clientSecret: 'demo-secret-5f2c8e1a9b7d4c3e8f6a0b1d2c3e4f5a',
  sub: 'demo.user@example.com',
});

/** The classic endpoint's lifetime; the workspace issuer's is WORKSPACE_TOKEN_LIFETIME_SECONDS. */
export const DEFAULT_TOKEN_LIFETIME_SECONDS = 7199;
export const WORKSPACE_TOKEN_LIFETIME_SECONDS = 900;

/** sha256 (hex) of what GET /download?bytes=N sends: byte i is i mod 251. */
export function downloadSha256(bytes: number): string {
  return patternSha256(bytes);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const clients = clientMap(options.clients ?? [DEMO_CLIENT]);
  const given = options.tokenLifetimeSeconds === undefined ? undefined : checkTokenLifetime(options.tokenLifetimeSeconds);
  const startLifetimes = { classic: given ?? DEFAULT_TOKEN_LIFETIME_SECONDS, workspace: given ?? WORKSPACE_TOKEN_LIFETIME_SECONDS };
  const keys = await createSigningKeys();
  const closing = new AbortController();
  let origin = '';
  let retryAfterOn429 = false;
  const ctx: EmulatorContext = {
    clients,
    keys,
    issuer: new TokenIssuer(keys, startLifetimes),
    journal: new Journal(journalLimit(options.journalLimit)),
    tokenFault: new FaultSwitch<TokenFault>(),
    apiFault: new FaultSwitch<ApiFault>(),
    asyncFault: new FaultSwitch<AsyncFault>(),
    rateLimiter: new FixedWindowRateLimiter(options.publishedRateLimits === true),
    resources: new ResourceStore(ALL_RESOURCES),
    closing: closing.signal,
    origin: () => origin,
    retryAfterOn429: () => retryAfterOn429,
    setRetryAfterOn429: (enabled) => {
      retryAfterOn429 = enabled;
    },
    setTokenLifetime: (seconds) => {
      ctx.issuer.lifetimes = { classic: seconds, workspace: seconds };
    },
    resetToDefaults: () => {
      applySettings(ctx, { token: null, api: null, async: null, retryAfterOn429: false });
      ctx.rateLimiter.reset();
      ctx.issuer.lifetimes = { ...startLifetimes };
      ctx.resources.reset();
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
    get tokenRequestCount() {
      return ctx.journal.tokenRequestCount;
    },
    get apiRequestCount() {
      return ctx.journal.apiRequestCount;
    },
    requestCount: (path, method) => ctx.journal.countFor(path, method),
    setTokenFault: (fault) => ctx.tokenFault.set(fault === undefined ? undefined : checkTokenFault(fault)),
    setApiFault: (fault) => ctx.apiFault.set(fault === undefined ? undefined : checkApiFault(fault)),
    setAsyncFault: (fault) => ctx.asyncFault.set(fault === undefined ? undefined : checkAsyncFault(fault)),
    setRateLimit: (limit) => ctx.rateLimiter.set(limit === undefined ? undefined : checkRateLimit(limit)),
    setPublishedRateLimits: (enabled) => ctx.rateLimiter.setPublished(enabled),
    setRetryAfterOn429: (enabled) => ctx.setRetryAfterOn429(enabled),
    setTokenLifetime: (seconds) => ctx.setTokenLifetime(checkTokenLifetime(seconds)),
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

function journalLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_JOURNAL_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error('journalLimit must be a positive integer');
  return limit;
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
