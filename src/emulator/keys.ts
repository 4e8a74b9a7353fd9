/** The emulator's RS256 signing key: generated at start, published as a JWKS. */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import type { CryptoKey, JSONWebKeySet, JWTPayload } from 'jose';

export const TOKEN_AUDIENCE = 'external_api';

export interface SigningKeys {
  readonly jwks: JSONWebKeySet;
  sign(claims: JWTPayload): Promise<string>;
  /** Checks signature, algorithm, issuer, audience and exp; throws a jose error when any fails. */
  verify(token: string, issuer: string): Promise<JWTPayload>;
}

export async function createSigningKeys(): Promise<SigningKeys> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const jwks: JSONWebKeySet = { keys: [{ ...publicJwk, kid, alg: 'RS256', use: 'sig' }] };
  return {
    jwks,
    sign: (claims) => signJwt(claims, kid, privateKey),
    verify: (token, issuer) => verifyJwt(token, issuer, publicKey),
  };
}

function signJwt(claims: JWTPayload, kid: string, privateKey: CryptoKey): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid }).sign(privateKey);
}

async function verifyJwt(token: string, issuer: string, publicKey: CryptoKey): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, publicKey, { algorithms: ['RS256'], issuer, audience: TOKEN_AUDIENCE });
  return payload;
}
