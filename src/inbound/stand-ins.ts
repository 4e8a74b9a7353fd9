import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { AccessConfig, InboundConfig } from '../config/index.ts';
import { AccessRules } from './access.ts';
import type { AccessGrant, Principal } from './principal.ts';

/** Recognisable, so a stand-in found anywhere is known for what it is: a token only this proxy accepts. */
export const STAND_IN_PREFIX = 'glproxy_standin_';
const MAC_BYTES = 32;
/** A principal with every route and method spelled out is a few hundred bytes; anything far larger is not ours. */
const MAX_STAND_IN_LENGTH = 16 * 1024;

export interface StandIn {
  readonly token: string;
  /** Seconds, as an OAuth answer's expires_in. */
  readonly expiresIn: number;
}

/** What a stand-in says about its holder, signed: the principal's rights at issue, and the end of its life. */
interface Claims {
  readonly name: string;
  readonly clients: readonly string[];
  readonly routes: readonly string[] | null;
  readonly methods: readonly string[] | null;
  /** Where the principal's scope is configured (for the log); absent: unknown. */
  readonly at?: string;
  /** The principal's readOnly and allow rules, so that a read-only key's stand-in is read-only; absent or null: none. */
  readonly access?: readonly GrantClaims[] | null;
  /** ms since the epoch. */
  readonly exp: number;
  /** Random: two stand-ins are never equal. */
  readonly nonce: string;
}

interface GrantClaims {
  readonly clients: readonly string[] | null;
  readonly label: string | null;
  readonly rules: (AccessConfig & { readonly at: string }) | null;
}

export function looksLikeStandIn(token: string): boolean {
  return token.startsWith(STAND_IN_PREFIX);
}

/**
 * Stand-ins bound to the principal whose key or JWT got them, so that one carries exactly that
 * principal's rights and never more. Each is signed (HMAC-SHA256) over the inbound
 * configuration's fingerprint as well: a changed apiKeys or jwt section (which takes a restart)
 * voids them all, so no stand-in keeps rights its key no longer has. Nothing is stored, so
 * replicas that share a signing key (derived from store.redis's encryption key) accept each
 * other's; without one, the key is random per process and a restart voids them.
 */
export class StandIns {
  readonly #key: Buffer;
  readonly #now: () => number;

  constructor(signingKey: Buffer, now: () => number = Date.now) {
    this.#key = signingKey;
    this.#now = now;
  }

  /** A new stand-in for `principal`, living `lifetimeSeconds` at most and never past the principal's own expiry. */
  issue(principal: Principal | undefined, lifetimeSeconds: number): StandIn {
    const now = this.#now();
    const exp = Math.min(now + lifetimeSeconds * 1000, principal?.expiresAt ?? Number.POSITIVE_INFINITY);
    const expiresIn = Math.max(0, Math.floor((exp - now) / 1000));
    // Without inbound authentication a stand-in proves nothing and binds no one: 256 random bits.
    if (principal === undefined) return { token: STAND_IN_PREFIX + randomBytes(32).toString('base64url'), expiresIn };
    const body = Buffer.from(JSON.stringify(claimsOf(principal, exp))).toString('base64url');
    return { token: `${STAND_IN_PREFIX}${body}.${this.#mac(body).toString('base64url')}`, expiresIn };
  }

  /** The principal a genuine, live stand-in was issued to; undefined for any other string. */
  find(token: string): Principal | undefined {
    if (token.length > MAX_STAND_IN_LENGTH || !looksLikeStandIn(token)) return undefined;
    const [body, mac, extra] = token.slice(STAND_IN_PREFIX.length).split('.');
    if (body === undefined || mac === undefined || extra !== undefined) return undefined;
    const presented = Buffer.from(mac, 'base64url');
    if (presented.length !== MAC_BYTES || !timingSafeEqual(presented, this.#mac(body))) return undefined;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Claims;
    return claims.exp > this.#now() ? principalOf(claims) : undefined;
  }

  #mac(body: string): Buffer {
    return createHmac('sha256', this.#key).update(body).digest();
  }
}

/**
 * The signing key: derived from a secret the replicas share (store.redis's encryption key), or
 * random; either way bound to the inbound configuration, whose change voids every stand-in.
 */
export function standInSigningKey(inbound: InboundConfig, sharedSecretBase64: string | undefined): Buffer {
  const secret = sharedSecretBase64 === undefined ? randomBytes(32) : Buffer.from(sharedSecretBase64, 'base64');
  const fingerprint = createHash('sha256').update(JSON.stringify([inbound.apiKeys, inbound.jwt ?? null])).digest();
  return createHmac('sha256', secret).update('greenlake-proxy stand-in tokens v1').update(fingerprint).digest();
}

function claimsOf(principal: Principal, exp: number): Claims {
  return {
    name: principal.name,
    clients: [...principal.clients],
    routes: principal.routes === undefined ? null : [...principal.routes],
    methods: principal.methods === undefined ? null : [...principal.methods],
    ...(principal.configPath !== undefined && { at: principal.configPath }),
    access: principal.access === undefined ? null : principal.access.map(grantClaims),
    exp,
    nonce: randomBytes(12).toString('base64url'),
  };
}

function principalOf(claims: Claims): Principal {
  return {
    name: claims.name,
    clients: new Set(claims.clients),
    routes: claims.routes === null ? undefined : new Set(claims.routes),
    methods: claims.methods === null ? undefined : new Set(claims.methods),
    configPath: claims.at,
    access: claims.access == null ? undefined : claims.access.map(grantOf),
    expiresAt: claims.exp,
    // Never the admin scope: a stand-in is for the API, not for /-/ (status, metrics, quit).
    admin: false,
  };
}

function grantClaims(grant: AccessGrant): GrantClaims {
  const rules = grant.rules === undefined ? null : { at: grant.rules.at, readOnly: grant.rules.config.readOnly, allow: grant.rules.config.allow };
  return { clients: grant.clients === undefined ? null : [...grant.clients], label: grant.label ?? null, rules };
}

function grantOf(claims: GrantClaims): AccessGrant {
  const rules = claims.rules === null ? undefined : AccessRules.of({ readOnly: claims.rules.readOnly, allow: claims.rules.allow ?? undefined }, claims.rules.at);
  return { clients: claims.clients === null ? undefined : new Set(claims.clients), rules, label: claims.label ?? undefined };
}
