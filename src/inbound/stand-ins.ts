import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from './principal.ts';

/** Recognisable, so a stand-in found anywhere is known for what it is: a token only this proxy accepts. */
export const STAND_IN_PREFIX = 'glproxy_standin_';
/** Enough for every tool of a team many times over; beyond it the oldest are forgotten first. */
const MAX_STAND_INS = 10_000;

export interface StandIn {
  readonly token: string;
  /** Seconds, as an OAuth answer's expires_in. */
  readonly expiresIn: number;
}

interface Issued {
  readonly principal: Principal;
  readonly expiresAt: number;
}

export function looksLikeStandIn(token: string): boolean {
  return token.startsWith(STAND_IN_PREFIX);
}

/**
 * The stand-ins this process issued, each bound to the principal whose key or JWT got it, so
 * a stand-in carries exactly that principal's rights and never more. Kept in memory only, by
 * digest: a restart (or a reload that changes inbound, which needs one) forgets them all, and
 * tools fetch new ones as they do when a token expires.
 */
export class StandIns {
  readonly #issued = new Map<string, Issued>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** A new stand-in for `principal`, living `lifetimeSeconds` at most and never past the principal's own expiry. */
  issue(principal: Principal | undefined, lifetimeSeconds: number): StandIn {
    const token = newStandIn();
    const now = this.#now();
    const expiresAt = Math.min(now + lifetimeSeconds * 1000, principal?.expiresAt ?? Number.POSITIVE_INFINITY);
    // Without inbound authentication nothing is bound and nothing needs remembering.
    if (principal !== undefined) this.#remember(digestOf(token), { principal, expiresAt });
    return { token, expiresIn: Math.max(0, Math.floor((expiresAt - now) / 1000)) };
  }

  /** The principal a live stand-in was issued to; undefined for one unknown, expired or forgotten. */
  find(token: string): Principal | undefined {
    const key = digestOf(token);
    const issued = this.#issued.get(key);
    if (issued === undefined) return undefined;
    if (issued.expiresAt > this.#now()) return issued.principal;
    this.#issued.delete(key);
    return undefined;
  }

  get size(): number {
    return this.#issued.size;
  }

  #remember(key: string, issued: Issued): void {
    if (this.#issued.size >= MAX_STAND_INS) this.#forgetExpired();
    // Map order is issue order: the first entry is the oldest.
    if (this.#issued.size >= MAX_STAND_INS) this.#issued.delete(this.#issued.keys().next().value as string);
    this.#issued.set(key, issued);
  }

  #forgetExpired(): void {
    const now = this.#now();
    for (const [key, issued] of this.#issued) if (issued.expiresAt <= now) this.#issued.delete(key);
  }
}

/** 256 random bits. */
function newStandIn(): string {
  return STAND_IN_PREFIX + randomBytes(32).toString('base64url');
}

function digestOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}
