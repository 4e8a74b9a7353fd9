import { createRemoteJWKSet, customFetch, errors, jwtVerify, type FetchImplementation, type JWTPayload } from 'jose';
import { fetch as undiciFetch, type Dispatcher } from 'undici';
import type { JwtConfig } from '../config/index.ts';
import { InboundError } from './errors.ts';
import { AccessRules } from './access.ts';
import type { AccessGrant, Principal } from './principal.ts';

/** Asymmetric only: a JWKS never holds the shared secret an HS256 token would need. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

/** Far more than any key set needs: a bigger or endless answer is cut off, not buffered. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/** The JWKS could not be fetched or read: the token may be fine, we cannot tell. */
const JWKS_UNAVAILABLE_CODES = new Set(['ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID', 'ERR_JOSE_GENERIC']);

/** Verifies bearer JWTs from the team's identity provider against its published keys. */
export class JwtVerifier {
  readonly #config: JwtConfig;
  readonly #keys: ReturnType<typeof createRemoteJWKSet>;
  readonly #clientsByClaimValue: ReadonlyMap<string, readonly string[]>;
  readonly #adminClaimValues: ReadonlySet<string>;
  readonly #rulesByClaimValue: ReadonlyMap<string, AccessRules | undefined>;

  /** `dispatcher`: fetch the JWKS through the proxy's own agent, which trusts caFile. */
  constructor(config: JwtConfig, dispatcher: Dispatcher | undefined) {
    this.#config = config;
    this.#keys = createRemoteJWKSet(new URL(config.jwksUrl), { timeoutDuration: 5_000, [customFetch]: fetchCapped(dispatcher) });
    this.#clientsByClaimValue = new Map(Object.entries(config.clients));
    this.#adminClaimValues = new Set(config.adminClaimValues);
    this.#rulesByClaimValue = new Map(Object.entries(config.access).map(([value, access]) => [value, AccessRules.of(access, `inbound.jwt.access[${value}]`)]));
  }

  async principal(token: string): Promise<Principal> {
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(token, this.#keys, {
        issuer: this.#config.issuer,
        audience: this.#config.audience,
        algorithms: ALGORITHMS,
      }));
    } catch (cause) {
      throw rejection(cause);
    }
    const values = claimValues(claims[this.#config.claim]);
    return {
      name: `jwt:${typeof claims.sub === 'string' ? claims.sub : '(no subject)'}`,
      clients: this.#clientsFor(values),
      routes: undefined,
      methods: undefined,
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : undefined,
      admin: values.some((value) => this.#adminClaimValues.has(value)),
      configPath: 'inbound.jwt',
      access: this.#accessFor(values),
    };
  }

  /** One grant per claim value held that maps to clients; undefined when none of them has rules. */
  #accessFor(values: readonly string[]): readonly AccessGrant[] | undefined {
    const grants = values.flatMap((value): AccessGrant[] => {
      const clients = this.#clientsByClaimValue.get(value);
      if (clients === undefined) return [];
      return [{ clients: new Set(clients), rules: this.#rulesByClaimValue.get(value), label: `${this.#config.claim} ${value}` }];
    });
    return grants.some((grant) => grant.rules !== undefined) ? grants : undefined;
  }

  #clientsFor(values: readonly string[]): ReadonlySet<string> {
    const clients = new Set<string>();
    for (const value of values) {
      for (const client of this.#clientsByClaimValue.get(value) ?? []) clients.add(client);
    }
    return clients;
  }
}

function claimValues(claim: unknown): string[] {
  const values: unknown[] = typeof claim === 'string' ? [claim] : Array.isArray(claim) ? claim : [];
  return values.filter((value): value is string => typeof value === 'string');
}

function rejection(cause: unknown): InboundError {
  const unavailable = !(cause instanceof errors.JOSEError) || JWKS_UNAVAILABLE_CODES.has(cause.code);
  if (unavailable) {
    return new InboundError('GREENLAKE_PROXY_AUTH_UNAVAILABLE', 'cannot verify tokens now: the identity provider keys (JWKS) are unavailable', { cause });
  }
  return new InboundError('GREENLAKE_PROXY_UNAUTHENTICATED', 'API key or token not accepted', { cause });
}

/** Fetches the JWKS (through the proxy's agent when given), reading at most MAX_JWKS_BYTES of it. */
function fetchCapped(dispatcher: Dispatcher | undefined): FetchImplementation {
  return async (url, options) => {
    const res = await undiciFetch(url, {
      method: options.method,
      headers: [...options.headers],
      redirect: options.redirect,
      signal: options.signal,
      ...(dispatcher !== undefined && { dispatcher }),
    });
    const bytes = await readCapped(res.body, MAX_JWKS_BYTES);
    return new Response(bytes, { status: res.status, headers: { 'content-type': res.headers.get('content-type') ?? 'application/json' } });
  };
}

async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks, size);
    size += value.byteLength;
    if (size > maxBytes) {
      // Cancelling the body aborts the request: the connection is closed, nothing more is read.
      await reader.cancel();
      throw new Error(`JWKS answer is larger than ${maxBytes / 1024 / 1024} MiB: not read further`);
    }
    chunks.push(value);
  }
}
