/**
 * "Budget closed" messages between replicas (Redis pub/sub). Sealed, and each carries when it was
 * sent and a random nonce: a message captured from Redis and published again (a replay) is
 * ignored, whether within the freshness window (its nonce was seen) or after it (too old).
 */
import { randomBytes } from 'node:crypto';
import type { BudgetApi } from '../budget/index.ts';

/** A message older than this (or this far in the future: clock skew) is not acted on. */
export const MESSAGE_FRESH_MS = 30_000;
/** Nonces remembered at most; beyond, messages are refused until older ones age out (never forgotten early). */
const NONCES_KEPT = 100_000;

export interface BudgetClosed {
  readonly api: BudgetApi;
  /** Left of the block when the message is read: its `forMs` less the time it took to arrive. */
  readonly forMs: number;
}

/** The plaintext to seal for `api` closed `forMs` from `now`. */
export function budgetMessage(api: BudgetApi, forMs: number, now: number): string {
  const { client, tenant, method, origin, path } = api;
  return JSON.stringify({ c: client, w: tenant ?? null, m: method, o: origin, p: path, ms: Math.round(forMs), t: now, n: randomBytes(12).toString('base64url') });
}

/** Reads opened messages; remembers their nonces for as long as they are fresh. */
export class BudgetMessageReader {
  /** nonce -> sent at; in arrival order, so the oldest are first. */
  readonly #seen = new Map<string, number>();

  /** undefined: not a message of ours, stale, from the future, or seen before. */
  read(plain: string, now: number): BudgetClosed | undefined {
    const message = parse(plain);
    if (message === undefined) return undefined;
    const age = now - message.t;
    if (age > MESSAGE_FRESH_MS || age < -MESSAGE_FRESH_MS) return undefined;
    this.#forgetOlderThan(now - MESSAGE_FRESH_MS);
    if (this.#seen.has(message.n) || this.#seen.size >= NONCES_KEPT) return undefined;
    this.#seen.set(message.n, message.t);
    const forMs = message.ms - Math.max(0, age);
    if (forMs <= 0) return undefined;
    const api: BudgetApi = { client: message.c, tenant: message.w ?? undefined, method: message.m, origin: message.o, path: message.p };
    return { api, forMs };
  }

  #forgetOlderThan(oldest: number): void {
    for (const [nonce, sentAt] of this.#seen) {
      // Arrival order is nearly send order: a slightly late one is dropped on a later pass.
      if (sentAt >= oldest) return;
      this.#seen.delete(nonce);
    }
  }
}

interface Wire {
  c: string;
  w: string | null;
  m: string;
  o: string;
  p: string;
  ms: number;
  t: number;
  n: string;
}

function parse(plain: string): Wire | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(plain) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const strings = [v.c, v.m, v.o, v.p, v.n].every((x) => typeof x === 'string');
  const numbers = [v.ms, v.t].every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!strings || !numbers || (v.w !== null && typeof v.w !== 'string') || (v.ms as number) <= 0) return undefined;
  return v as unknown as Wire;
}
