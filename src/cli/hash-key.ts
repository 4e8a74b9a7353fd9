import { text } from 'node:stream/consumers';
import { generateKey, hashKey } from '../inbound/index.ts';
import { UsageError, type CliOptions, type Env } from './command.ts';

/** Shorter keys could be guessed from their unsalted hash if the configuration leaked. */
const MIN_KEY_LENGTH = 16;

/**
 * Prints the `keyHash:` line for inbound.apiKeys. The key comes on stdin (never as an argument,
 * which would land in shell history and `ps`), or is generated with --generate.
 */
export async function runHashKey(options: CliOptions, _env: Env): Promise<number> {
  if (options.generate) {
    const key = generateKey();
    process.stdout.write(`key: ${key}\nkeyHash: ${hashKey(key)}\n`);
    return 0;
  }
  const key = withoutOneTrailingNewline(process.stdin.isTTY ? '' : await text(process.stdin));
  if (key === '') {
    throw new UsageError("hash-key: pipe the key on stdin (printf %s \"$KEY\" | greenlake-proxy hash-key), or use --generate");
  }
  if (key.length < MIN_KEY_LENGTH) {
    throw new UsageError(`hash-key: the key is too short (at least ${MIN_KEY_LENGTH} characters); --generate makes a strong one`);
  }
  process.stdout.write(`keyHash: ${hashKey(key)}\n`);
  return 0;
}

function withoutOneTrailingNewline(input: string): string {
  if (input.endsWith('\r\n')) return input.slice(0, -2);
  if (input.endsWith('\n')) return input.slice(0, -1);
  return input;
}
