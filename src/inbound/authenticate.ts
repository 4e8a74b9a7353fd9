import type { IncomingHttpHeaders } from 'node:http';
import type { KeyRing } from './api-keys.ts';
import { InboundError } from './errors.ts';
import type { JwtVerifier } from './jwt.ts';
import type { Principal } from './principal.ts';
import { looksLikeStandIn, type StandIns } from './stand-ins.ts';

const BEARER = /^bearer +(\S+) *$/i;
const LOOKS_LIKE_JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** Turns the key or token a caller presents into a principal. */
export class Authenticator {
  readonly #keys: KeyRing;
  readonly #jwt: JwtVerifier | undefined;
  readonly #standIns: StandIns;

  constructor(keys: KeyRing, jwt: JwtVerifier | undefined, standIns: StandIns) {
    this.#keys = keys;
    this.#jwt = jwt;
    this.#standIns = standIns;
  }

  /** Kept across a reload that leaves the JWT settings as they were. */
  get jwt(): JwtVerifier | undefined {
    return this.#jwt;
  }

  /** The principal, or the error to answer with (returned, so the attempt can be rate-limited first). */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal | InboundError> {
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string') return this.#keys.find(apiKey) ?? notAccepted();
    const bearer = bearerOf(headers);
    if (bearer === undefined) return missing();
    if (looksLikeStandIn(bearer)) return this.#standIns.find(bearer) ?? notAccepted();
    return this.authenticateSecret(bearer);
  }

  /** An API key or JWT presented by itself (a token request's client_secret); never a stand-in, which cannot buy another. */
  async authenticateSecret(secret: string): Promise<Principal | InboundError> {
    const byKey = this.#keys.size > 0 ? this.#keys.find(secret) : undefined;
    if (byKey !== undefined) return byKey;
    if (this.#jwt === undefined || !LOOKS_LIKE_JWT.test(secret)) return notAccepted();
    try {
      return await this.#jwt.principal(secret);
    } catch (error) {
      return error instanceof InboundError ? error : notAccepted();
    }
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerOf(headers: IncomingHttpHeaders): string | undefined {
  return headers.authorization === undefined ? undefined : BEARER.exec(headers.authorization)?.[1];
}

function missing(): InboundError {
  return new InboundError('GREENLAKE_PROXY_UNAUTHENTICATED', 'no credentials: send Authorization: Bearer <key> or X-API-Key: <key>');
}

function notAccepted(): InboundError {
  return new InboundError('GREENLAKE_PROXY_UNAUTHENTICATED', 'API key or token not accepted');
}
