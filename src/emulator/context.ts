/** The emulator's state, shared by its routes. */
import type { FaultSwitch } from './faults.ts';
import type { Journal } from './journal.ts';
import type { FixedWindowRateLimiter } from './rate-limit.ts';
import type { SigningKeys } from './keys.ts';
import type { TokenIssuer } from './token-issuer.ts';
import type { ResourceStore } from './resources/index.ts';
import type { ApiFault, AsyncFault, EmulatorClient, TokenFault } from './types.ts';

export interface EmulatorContext {
  readonly clients: ReadonlyMap<string, EmulatorClient>;
  readonly keys: SigningKeys;
  readonly issuer: TokenIssuer;
  readonly journal: Journal;
  readonly tokenFault: FaultSwitch<TokenFault>;
  readonly apiFault: FaultSwitch<ApiFault>;
  readonly asyncFault: FaultSwitch<AsyncFault>;
  readonly rateLimiter: FixedWindowRateLimiter;
  readonly resources: ResourceStore;
  retryAfterOn429(): boolean;
  setRetryAfterOn429(enabled: boolean): void;
  /** Both issuers' lifetime. */
  setTokenLifetime(seconds: number): void;
  /** Aborted when the emulator closes: delays and hangs end at once. */
  readonly closing: AbortSignal;
  /** The emulator's origin, known once it listens; also the tokens' `iss`. */
  origin(): string;
  /** Faults, rate limits, token lifetimes and resource data back to their start values; the journal emptied. */
  resetToDefaults(): void;
}
