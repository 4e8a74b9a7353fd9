import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';

/**
 * What to send upstream as the request body. A small body is held in memory so the
 * request can be replayed once after a 401; a large one streams and cannot be.
 */
export type RequestBody =
  | { readonly kind: 'none'; readonly replayable: true }
  | { readonly kind: 'buffered'; readonly replayable: true; readonly bytes: Buffer }
  | { readonly kind: 'stream'; readonly replayable: false; readonly stream: Readable | AsyncIterable<Buffer>; readonly length: number | undefined };

const NO_BODY: RequestBody = { kind: 'none', replayable: true };

/** Sync when there is nothing to wait for (no body, or a body too large to hold): the common GET costs no await. */
export function readRequestBody(req: IncomingMessage, maxReplayBytes: number): RequestBody | Promise<RequestBody> {
  const declared = declaredLength(req);
  if (declared === 0 || (declared === undefined && req.headers['transfer-encoding'] === undefined)) return NO_BODY;
  if (declared !== undefined && declared > maxReplayBytes) {
    return { kind: 'stream', replayable: false, stream: req, length: declared };
  }
  return holdSmallBody(req, maxReplayBytes, declared);
}

async function holdSmallBody(req: IncomingMessage, maxReplayBytes: number, declared: number | undefined): Promise<RequestBody> {
  const head = await readUpTo(req, maxReplayBytes);
  if (head.ended) return { kind: 'buffered', replayable: true, bytes: Buffer.concat(head.chunks) };
  return { kind: 'stream', replayable: false, stream: prepend(head.chunks, req), length: declared };
}

export function bodyLength(body: RequestBody): number | undefined {
  if (body.kind === 'none') return undefined;
  return body.kind === 'buffered' ? body.bytes.length : body.length;
}

function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers['content-length'];
  return value === undefined ? undefined : Number(value);
}

/** Reads until the body ends or passes `limit` bytes; then leaves the stream paused where it is. */
function readUpTo(stream: Readable, limit: number): Promise<{ chunks: Buffer[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const finish = (ended: boolean): void => {
      stream.off('data', onData).off('end', onEnd).off('error', onError);
      resolve({ chunks, ended });
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      total += chunk.length;
      if (total > limit) {
        stream.pause();
        finish(false);
      }
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => {
      stream.off('data', onData).off('end', onEnd);
      reject(err);
    };
    stream.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

async function* prepend(head: Buffer[], rest: Readable): AsyncIterable<Buffer> {
  yield* head;
  for await (const chunk of rest) yield chunk as Buffer;
}
