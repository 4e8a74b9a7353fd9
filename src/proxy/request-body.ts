import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * What to send upstream as the request body. A small body is held in memory so the
 * request can be replayed once after a 401; a large one streams and cannot be.
 */
export type RequestBody =
  | { readonly kind: 'none'; readonly replayable: true }
  | { readonly kind: 'buffered'; readonly replayable: true; readonly bytes: Buffer }
  | { readonly kind: 'stream'; readonly replayable: false; readonly stream: Readable | AsyncIterable<Buffer>; readonly length: number | undefined };

/** How bodies are held for a replay, shared by every listener of a gateway. */
export interface BodyHolding {
  /** Larger bodies always stream. */
  readonly maxBodyBytes: number;
  /** A body not complete after this long streams from where it got to: a slow upload holds no memory for long. */
  readonly holdMs: number;
  readonly memory: ReplayMemory;
}

/**
 * The bytes held for replay across all requests, bounded: past the bound, bodies stream
 * without replay (a 401 on them is passed to the caller). Without it, 200 connections
 * trickling 1 MiB bodies held about 200 MB for as long as they liked.
 */
export class ReplayMemory {
  readonly limit: number;
  #held = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  reserve(bytes: number): boolean {
    if (this.#held + bytes > this.limit) return false;
    this.#held += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
  }
}

export const DEFAULT_MAX_REPLAY_BODY_BYTES = 1024 * 1024;

const NO_BODY: RequestBody = { kind: 'none', replayable: true };

/** Sync when there is nothing to wait for (no body, or a body too large to hold): the common GET costs no await. */
export function readRequestBody(req: IncomingMessage, holding: BodyHolding, res: ServerResponse): RequestBody | Promise<RequestBody> {
  const declared = declaredLength(req);
  if (declared === 0 || (declared === undefined && req.headers['transfer-encoding'] === undefined)) return NO_BODY;
  if (declared !== undefined && declared > holding.maxBodyBytes) return streamed(req, declared);
  // A declared length is reserved whole at once; a chunked body as its chunks come.
  if (declared !== undefined && !holding.memory.reserve(declared)) return streamed(req, declared);
  return holdSmallBody(req, holding, declared, res);
}

function streamed(req: IncomingMessage, length: number | undefined): RequestBody {
  return { kind: 'stream', replayable: false, stream: req, length };
}

async function holdSmallBody(req: IncomingMessage, holding: BodyHolding, declared: number | undefined, res: ServerResponse): Promise<RequestBody> {
  const reserved = { bytes: declared ?? 0 };
  const release = (): void => holding.memory.release(reserved.bytes);
  let head: Head;
  try {
    head = await readUpTo(req, holding, declared === undefined ? reserved : undefined);
  } catch (err) {
    release();
    throw err;
  }
  if (!head.ended) {
    release();
    return { kind: 'stream', replayable: false, stream: prepend(head.chunks, req), length: declared };
  }
  // Held until the exchange is over (a replay may need it), however it ends.
  if (res.closed) release();
  else res.once('close', release);
  return { kind: 'buffered', replayable: true, bytes: Buffer.concat(head.chunks) };
}

export function bodyLength(body: RequestBody): number | undefined {
  if (body.kind === 'none') return undefined;
  return body.kind === 'buffered' ? body.bytes.length : body.length;
}

function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

interface Head {
  readonly chunks: Buffer[];
  /** false: the body goes on in the stream (too large, too slow, or no memory left to hold it). */
  readonly ended: boolean;
}

/**
 * Reads until the body ends, passes `maxBodyBytes`, takes longer than `holdMs`, or (chunked:
 * `reserving` set) finds no replay memory for its next chunk; then leaves the stream paused where it is.
 */
function readUpTo(stream: Readable, holding: BodyHolding, reserving: { bytes: number } | undefined): Promise<Head> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const stop = (): void => {
      clearTimeout(deadline);
      stream.off('data', onData).off('end', onEnd).off('error', onError);
    };
    const finish = (ended: boolean): void => {
      stop();
      if (!ended) stream.pause();
      resolve({ chunks, ended });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > holding.maxBodyBytes) return finish(false);
      if (reserving === undefined) return;
      if (!holding.memory.reserve(chunk.length)) return finish(false);
      reserving.bytes += chunk.length;
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    const deadline = setTimeout(() => finish(false), holding.holdMs);
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

/** The held chunks, each let go once passed on (a stalled rest must not keep them alive), then the rest. */
async function* prepend(head: Buffer[], rest: Readable): AsyncIterable<Buffer> {
  for (let chunk = head.shift(); chunk !== undefined; chunk = head.shift()) yield chunk;
  for await (const chunk of rest) yield chunk as Buffer;
}
