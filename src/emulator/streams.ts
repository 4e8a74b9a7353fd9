/** Request and response bodies as streams: never a whole large body in memory. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Reads a small body whole; undefined when it is larger than maxBytes. */
export async function readSmallBody(stream: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of stream) {
    bytes += chunk.length;
    if (bytes > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The /download pattern: byte i is i mod 251. Every chunk but the last is a whole
 * number of periods, so one shared block serves every chunk.
 */
const PATTERN_PERIOD = 251;
const PATTERN_BLOCK = Buffer.from(Array.from({ length: PATTERN_PERIOD * 256 }, (_, i) => i % PATTERN_PERIOD));

export function patternStream(totalBytes: number): Readable {
  return Readable.from(patternChunks(totalBytes), { objectMode: false });
}

function* patternChunks(totalBytes: number): Generator<Buffer> {
  for (let sent = 0; sent < totalBytes; sent += PATTERN_BLOCK.length) {
    yield PATTERN_BLOCK.subarray(0, Math.min(PATTERN_BLOCK.length, totalBytes - sent));
  }
}

/** sha256 (hex) of the first totalBytes bytes of the /download pattern. */
export function patternSha256(totalBytes: number): string {
  const hash = createHash('sha256');
  for (const chunk of patternChunks(totalBytes)) hash.update(chunk);
  return hash.digest('hex');
}
