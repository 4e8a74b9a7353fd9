import type { IncomingHttpHeaders } from 'node:http';
import type { KeyRing } from './api-keys.ts';
import { InboundError } from './errors.ts';
import type { JwtVerifier } from './jwt.ts';
import type { Principal } from './principal.ts';

const BEARER = /^bearer +(\S+) *$/i;
const LOOKS_LIKE_JWT = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/** Turns the key or token a caller presents into a principal. */
export class Authenticator {
  readonly #keys: KeyRing;
  readonly #jwt: JwtVerifier | undefined;

  constructor(keys: KeyRing, jwt: JwtVerifier | undefined) {
    this.#keys = keys;
    this.#jwt = jwt;
  }

  /** Kept across a reload that leaves the JWT settings as they were. */
  get jwt(): JwtVerifier | undefined {
    return this.#jwt;
  }

  /** The principal, or the error to answer with (returned, so the attempt can be rate-limited first). */
  async authenticate(headers: IncomingHttpHeaders): Promise<Principal | InboundError> {
    const apiKey = headers['x-api-key'];
    if (typeof apiKey === 'string') return this.#keys.find(apiKey) ?? notAccepted();
    const bearer = headers.authorization === undefined ? undefined : BEARER.exec(headers.authorization)?.[1];
    if (bearer === undefined) return missing();
    const byKey = this.#keys.size > 0 ? this.#keys.find(bearer) : undefined;
    if (byKey !== undefined) return byKey;
    if (this.#jwt === undefined || !LOOKS_LIKE_JWT.test(bearer)) return notAccepted();
    try {
      return await this.#jwt.principal(bearer);
    } catch (error) {
      return error instanceof InboundError ? error : notAccepted();
    }
  }
}

function missing(): InboundError {
  return new InboundError('GREENLAKE_PROXY_UNAUTHENTICATED', 'no credentials: send Authorization: Bearer <key> or X-API-Key: <key>');
}

function notAccepted(): InboundError {
  return new InboundError('GREENLAKE_PROXY_UNAUTHENTICATED', 'API key or token not accepted');
}
