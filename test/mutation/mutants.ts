/**
 * The mutants `npm run mutation` plants, one at a time. Each is one small bug of the kind a real
 * change introduces, in the core modules, with the tests aimed at it. `find` must occur exactly
 * once in `file` (else the mutant is reported as not applicable: update it with the code).
 */
export interface Mutant {
  readonly id: string;
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /** Test files that should catch it. */
  readonly tests: readonly string[];
  /** The bug, in words. */
  readonly what: string;
}

export const MUTANTS: readonly Mutant[] = [
  {
    id: 'tokens-min-ttl-boundary',
    file: 'src/tokens/keeper.ts',
    find: 'if (lifetimeSeconds <= tokens.minTtlSeconds) {',
    replace: 'if (lifetimeSeconds < tokens.minTtlSeconds) {',
    tests: ['test/tokens.test.ts'],
    what: 'a token living exactly minTtlSeconds is taken as usable',
  },
];
