import type { Env } from './command.ts';

/** Every environment variable greenlake-proxy reads, in one place: the help text and the look-alike warning use it. */
export const VARIABLES: readonly { readonly name: string; readonly help: string }[] = [
  { name: 'GREENLAKE_CLIENT_ID', help: 'zero-config: the API client ID (a client named "default", every catalog route)' },
  { name: 'GREENLAKE_CLIENT_SECRET', help: 'zero-config: its secret' },
  { name: 'GREENLAKE_CLIENT_SECRET_FILE', help: 'zero-config: a file holding the secret instead' },
  { name: 'GREENLAKE_TOKEN_URL', help: 'zero-config: the token endpoint (default: GreenLake\'s)' },
  { name: 'GREENLAKE_AUTH_METHOD', help: 'zero-config: client_secret_post (default) or client_secret_basic' },
  { name: 'GREENLAKE_PROXY_CONFIG', help: 'the configuration file, like --config' },
  { name: 'GREENLAKE_PROXY_HOST', help: 'listen address, like --host' },
  { name: 'GREENLAKE_PROXY_PORT', help: 'listen port, like --port' },
  { name: 'GREENLAKE_PROXY_SOCKET', help: 'serve on this Unix socket instead, like --socket' },
  { name: 'GREENLAKE_PROXY_REDIS_URL', help: 'store.redis.url' },
  { name: 'GREENLAKE_PROXY_REDIS_KEY', help: 'store.redis.encryptionKey' },
  { name: 'LOG_LEVEL', help: 'fatal, error, warn, info (default), debug, trace or silent' },
  { name: 'NO_COLOR', help: 'no colour in readable log lines' },
];

/** Two edits (a swap counts as one) catch ULR for URL and PROT for PORT, not a different word. */
const MAX_DISTANCE = 2;

/**
 * One warning per variable that is not ours but nearly spells one of ours: a typo that would
 * otherwise be ignored without a word.
 */
export function lookalikeWarnings(env: Env): string[] {
  const known = new Set(VARIABLES.map((v) => v.name));
  const warnings: string[] = [];
  for (const name of Object.keys(env)) {
    if (known.has(name)) continue;
    const closest = closestKnown(name);
    if (closest !== undefined) {
      warnings.push(`warning: ${name} is not a variable greenlake-proxy reads; did you mean ${closest}? (ignore this if your --config file uses \${${name}})`);
    }
  }
  return warnings;
}

function closestKnown(name: string): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const { name: known } of VARIABLES) {
    const distance = editDistance(name.toUpperCase(), known);
    if (distance <= MAX_DISTANCE && (best === undefined || distance < best.distance)) best = { name: known, distance };
  }
  return best?.name;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = rows[i]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
    }
  }
  return rows[a.length]![b.length]!;
}
