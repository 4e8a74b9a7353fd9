import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Why the proxy asks V8 for a young-generation collection itself.
 *
 * Every socket read allocates a fresh buffer outside V8's heap; a streamed body is a
 * train of them, each dead once written on. V8 frees such memory only when it collects
 * the small objects that own it, and a stream allocates too few of those to start a
 * collection: what starts one is external memory passing 64 MiB since the last full
 * collection, so a 1 GiB stream ran 80-90 MiB above its resting RSS, paying a full
 * mark-compact about every 100 ms. A scavenge every RECLAIM_EVERY_BYTES relayed frees the
 * same buffers in about 0.3 ms each and keeps the stream within a few of them.
 */
const RECLAIM_EVERY_BYTES = 8 * 1024 * 1024;

type Collect = () => void;

let collect: Collect | undefined;
let relayedSinceCollect = 0;

/** Counts body bytes relayed (either way, any request); collects young garbage every RECLAIM_EVERY_BYTES. */
export function noteRelayed(bytes: number): void {
  relayedSinceCollect += bytes;
  if (relayedSinceCollect < RECLAIM_EVERY_BYTES) return;
  relayedSinceCollect = 0;
  (collect ??= minorCollector())();
}

/** A streamed request body, counted as it passes. */
export async function* countedAsRelayed(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  for await (const chunk of chunks) {
    noteRelayed(chunk.length);
    yield chunk;
  }
}

/**
 * V8's own `gc({ type: 'minor' })`. The flag exposes it only in contexts made after it is
 * set, so the function comes from a fresh context and the main one gets no global `gc`.
 */
function minorCollector(): Collect {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as ((options: { type: 'minor' }) => void) | undefined;
  if (typeof gc !== 'function') return () => {};
  return () => gc({ type: 'minor' });
}
